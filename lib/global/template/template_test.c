/* template_test - golden outputs of the FreeMarker subset (contract §9). */
#include "global/template/template.h"
#include "tests/harness/ttest.h"
#include "util/buf.h"
#include "util/mymalloc.h"

#include <jansson.h>

struct golden {
    const char *src;
    const char *vars; /* JSON object */
    int auto_escape;
    const char *want; /* output, or NULL when err is expected */
    const char *err;  /* rendering or syntax error */
};

/* run - parse src as body and render it; returns output or "ERR:" message */
static char *run(const char *src, const char *vars, int auto_escape)
{
    struct template *t = NULL;
    char err[TEMPLATE_ERR_MAX];
    struct buf out = BUF_INIT(4 << 20);
    json_t *v = NULL;
    struct template_opts o = {auto_escape, 0, 0};
    char *res;

    if (template_parse(src, strlen(src), "body", &t, err, sizeof(err)) < 0)
        return xasprintf("SYNTAX:%s", err);
    if (vars) {
        json_error_t je;
        v = json_loads(vars, 0, &je);
        if (v == NULL)
            TT_FAIL("bad test JSON %s: %s", vars, je.text);
    }
    if (template_render(t, v, &o, &out, err, sizeof(err)) < 0)
        res = xasprintf("ERR:%s", err);
    else
        res = xstrdup(buf_ptr(&out));
    json_decref(v);
    buf_free(&out);
    template_free(t);
    return res;
}

static void check_table(const struct golden *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *got = run(g[i].src, g[i].vars, g[i].auto_escape);
        char want[1024];

        if (g[i].want)
            snprintf(want, sizeof(want), "%s", g[i].want);
        else
            snprintf(want, sizeof(want), "%s", g[i].err);
        if (strcmp(got, want) != 0)
            TT_FAIL("case %zu: template \"%s\"\n    got:      \"%s\"\n    expected: \"%s\"", i,
                    g[i].src, got, want);
        xfree(got);
    }
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

TT_TEST(interpolation)
{
    static const struct golden g[] = {
        {"Send Job - POST - template basic ${name}", "{\"name\":\"Ignaz\"}", 0,
         "Send Job - POST - template basic Ignaz", 0},
        {"${a.b.c}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", 0, "deep", 0},
        {"${ name }", "{\"name\":\"x\"}", 0, "x", 0},
        {"${\"literal\"}", NULL, 0, "literal", 0},
        {"${\"$\"}{name}", NULL, 0, "${name}", 0},
        {"${'single'}", NULL, 0, "single", 0},
        {"${\"a\\\"b\\'c\\\\d\"}", NULL, 0, "a\"b'c\\d", 0},
        {"${\"\\x41\\x20\\xe9\"}", NULL, 0, "A \xc3\xa9", 0},
        {"{{name}} {{{name}}}", "{\"name\":\"x\"}", 0, "{{name}} {{{name}}}", 0},
        {"$name $ {name} #{name}", "{\"name\":\"x\"}", 0, "$name $ {name} #{name}", 0},
        {"${n}", "{\"n\":42}", 0, "42", 0},
        {"${n}", "{\"n\":-7}", 0, "-7", 0},
        {"${n}", "{\"n\":1234567}", 0, "1234567", 0},
        {"${n}", "{\"n\":1.5}", 0, "1.5", 0},
        {"${n}", "{\"n\":2.0}", 0, "2", 0},
        {"${n}", "{\"n\":0.1}", 0, "0.1", 0},
        {"${n}", "{\"n\":1e21}", 0, "1e+21", 0},
        {"${n}", "{\"n\":1e20}", 0, "100000000000000000000", 0},
        {"${n}", "{\"n\":1.5e-7}", 0, "1.5e-7", 0},
        {"${n}", "{\"n\":0.000001}", 0, "0.000001", 0},
        {"${n}", "{\"n\":-0.0}", 0, "0", 0},
        {"${n}", "{\"n\":3.141592653589793}", 0, "3.141592653589793", 0},
        {"${n}", "{\"n\":123456.789}", 0, "123456.789", 0},
        {"${b} ${c}", "{\"b\":true,\"c\":false}", 0, "true false", 0},
        {"${42} ${1.25}", NULL, 0, "42 1.25", 0},
        {"${s}", "{\"s\":\"\"}", 0, "", 0},
        {"a${x}b", "{\"x\":\"<&>\"}", 0, "a<&>b", 0},
        {"a <@ b <@< c\n<<<<Glis<@<<\n=AA", NULL, 0, "a <@ b <@< c\n<<<<Glis<@<<\n=AA", 0},
    };
    check_table(g, N(g));
}

TT_TEST(defaults)
{
    static const struct golden g[] = {
        {"${name!\"none\"}", "{}", 0, "none", 0},
        {"${name!\"none\"}", "{\"name\":null}", 0, "none", 0},
        {"${name!\"none\"}", "{\"name\":\"Bob\"}", 0, "Bob", 0},
        {"${name!}", "{}", 0, "", 0},
        {"[${name!}]", NULL, 0, "[]", 0},
        {"${name!other}", "{\"other\":\"o\"}", 0, "o", 0},
        {"${name!other}", "{}", 0, NULL,
         "ERR:Missing template variable other in body.template at line 1 column 8"},
        {"${name!\"x\"?upper_case}", "{\"name\":\"bob\"}", 0, "bob", 0},
        {"${name!\"x\"?upper_case}", "{}", 0, "X", 0},
        {"${(name!\"x\")?upper_case}", "{\"name\":\"bob\"}", 0, "BOB", 0},
        {"${(name!\"x\")?upper_case}", "{}", 0, "X", 0},
        {"${a.b!\"x\"}", "{\"a\":{}}", 0, "x", 0},
        {"${a.b!\"x\"}", "{\"a\":{\"b\":\"y\"}}", 0, "y", 0},
        {"${a.b!\"x\"}", "{}", 0, NULL,
         "ERR:Missing template variable a in body.template at line 1 column 3"},
        {"${(a.b)!\"x\"}", "{}", 0, "x", 0},
        {"${(a.b)!\"x\"}", "{\"a\":{}}", 0, "x", 0},
        {"${a.b.c!\"x\"}", "{\"a\":{}}", 0, NULL,
         "ERR:Missing template variable a.b in body.template at line 1 column 3"},
        {"${name?upper_case!\"d\"}", "{}", 0, "d", 0},
        {"${a!b!\"c\"}", "{}", 0, "c", 0},
        {"${n!0}", "{}", 0, "0", 0},
    };
    check_table(g, N(g));
}

TT_TEST(builtins)
{
    static const struct golden g[] = {
        {"${x?html}", "{\"x\":\"<a href='x'>&\\\"</a>\"}", 0,
         "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;", 0},
        {"${x?url}", "{\"x\":\"a b&c=d/\\u00e9?_-.!~*'()\"}", 0,
         "a%20b%26c%3Dd%2F%C3%A9%3F_-.!~*'()", 0},
        {"${x?upper_case}", "{\"x\":\"stra\\u00dfe \\u00e9t\\u00e9\"}", 0,
         "STRA\xc3\x9f"
         "E \xc3\x89T\xc3\x89",
         0},
        {"${x?lower_case}", "{\"x\":\"\\u00c4RGER \\u0130 \\u03a3\"}", 0, "\xc3\xa4rger i \xcf\x83",
         0},
        {"${x?upper_case}", "{\"x\":\"\\u0131 \\u017f \\u03c2 \\u0446 \\u01c6\"}", 0,
         "I S \xce\xa3 \xd0\xa6 \xc7\x84", 0},
        {"${x?cap_first}", "{\"x\":\"  \\u00e9mile zola\"}", 0, "  \xc3\x89mile zola", 0},
        {"${x?cap_first}", "{\"x\":\"hello World\"}", 0, "Hello World", 0},
        {"${x?cap_first}", "{\"x\":\"\"}", 0, "", 0},
        {"${x?lower_case?cap_first}", "{\"x\":\"JOHN DOE\"}", 0, "John doe", 0},
        {"${x?no_esc}", "{\"x\":\"<b>\"}", 0, "<b>", 0},
        {"${n?url}", "{\"n\":1.5}", 0, "1.5", 0},
        {"${b?upper_case}", "{\"b\":true}", 0, "TRUE", 0},
        {"${x?html?html}", "{\"x\":\"&\"}", 0, "&amp;amp;", 0},
        {"${x?upperCase}", "{\"x\":\"a\"}", 0, "A", 0},
        {"${x?upper_case}", "{}", 0, NULL,
         "ERR:Missing template variable x in body.template at line 1 column 3"},
        {"${x?html}", "{\"x\":[1]}", 0, NULL,
         "ERR:Cannot render x: not a scalar in body.template at line 1 column 3"},
    };
    check_table(g, N(g));
}

TT_TEST(auto_escape)
{
    static const struct golden g[] = {
        {"${x}", "{\"x\":\"<b>&\"}", 1, "&lt;b&gt;&amp;", 0},
        {"${x?html}", "{\"x\":\"<b>&\"}", 1, "&lt;b&gt;&amp;", 0},
        {"${x?no_esc}", "{\"x\":\"<b>&\"}", 1, "<b>&", 0},
        {"${x?html?upper_case}", "{\"x\":\"<b>\"}", 1, "&LT;B&GT;", 0},
        {"${x?url}", "{\"x\":\"a'b c\"}", 1, "a&#39;b%20c", 0},
        {"${\"<lit>\"}", NULL, 1, "&lt;lit&gt;", 0},
        {"${x!\"<d>\"}", "{}", 1, "&lt;d&gt;", 0},
        {"<p>${n}</p>", "{\"n\":3}", 1, "<p>3</p>", 0},
    };
    check_table(g, N(g));
}

TT_TEST(conditions)
{
    static const struct golden g[] = {
        {"<#if a>yes<#else>no</#if>", "{\"a\":true}", 0, "yes", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":false}", 0, "no", 0},
        {"<#if a>yes<#else>no</#if>", "{}", 0, "no", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":null}", 0, "no", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":\"\"}", 0, "no", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":\"x\"}", 0, "yes", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":0}", 0, "no", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":0.5}", 0, "yes", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":[]}", 0, "no", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":[1]}", 0, "yes", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":{}}", 0, "no", 0},
        {"<#if a>yes<#else>no</#if>", "{\"a\":{\"k\":1}}", 0, "yes", 0},
        {"<#if a.b.c>yes<#else>no</#if>", "{}", 0, "no", 0},
        {"<#if !a>not</#if>", "{}", 0, "not", 0},
        {"<#if !!a>x<#else>y</#if>", "{\"a\":1}", 0, "x", 0},
        {"<#if a == \"x\">eq</#if>", "{\"a\":\"x\"}", 0, "eq", 0},
        {"<#if a != \"x\">ne<#else>eq</#if>", "{\"a\":\"x\"}", 0, "eq", 0},
        {"<#if n == 3>three</#if>", "{\"n\":3}", 0, "three", 0},
        {"<#if n == 3>three</#if>", "{\"n\":3.0}", 0, "three", 0},
        {"<#if n == 3.5>x</#if>", "{\"n\":3.5}", 0, "x", 0},
        {"<#if n == -1>neg</#if>", "{\"n\":-1}", 0, "neg", 0},
        {"<#if n == \"3\">same<#else>diff</#if>", "{\"n\":3}", 0, "diff", 0},
        {"<#if b == true>t</#if>", "{\"b\":true}", 0, "t", 0},
        {"<#if a == b>both missing</#if>", "{}", 0, "both missing", 0},
        {"<#if a == \"\">x<#else>y</#if>", "{}", 0, "y", 0},
        {"<#if a && b>and<#else>nand</#if>", "{\"a\":1,\"b\":0}", 0, "nand", 0},
        {"<#if a || b>or</#if>", "{\"a\":0,\"b\":1}", 0, "or", 0},
        {"<#if a || b && c>x<#else>y</#if>", "{\"a\":1,\"b\":0,\"c\":0}", 0, "x", 0},
        {"<#if (a || b) && c>x<#else>y</#if>", "{\"a\":1,\"b\":0,\"c\":0}", 0, "y", 0},
        {"<#if !a == b>x<#else>y</#if>", "{\"a\":false,\"b\":true}", 0, "x", 0},
        {"<#if a == \"1\" && b != \"2\">x</#if>", "{\"a\":\"1\",\"b\":\"3\"}", 0, "x", 0},
        {"<#if x == 1>one<#elseif x == 2>two<#elseif x == 3>three<#else>other</#if>", "{\"x\":2}",
         0, "two", 0},
        {"<#if x == 1>one<#elseif x == 2>two<#else>other</#if>", "{\"x\":9}", 0, "other", 0},
        {"<#if x == 1>one<#elseIf x == 2>two</#if>", "{\"x\":2}", 0, "two", 0},
        {"<#if a>A<#if b>B</#if>C</#if>", "{\"a\":1,\"b\":1}", 0, "ABC", 0},
        {"<#if a?upper_case == \"X\">x</#if>", "{\"a\":\"x\"}", 0, "x", 0},
        {"<#if a?upper_case == \"X\">x<#else>m</#if>", "{}", 0, "m", 0},
        {"<#if a!\"d\" == \"d\">d</#if>", "{}", 0, "d", 0},
        {"${a == \"x\"}", "{\"a\":\"x\"}", 0, "true", 0},
    };
    check_table(g, N(g));
}

TT_TEST(lists)
{
    static const struct golden g[] = {
        {"<#list items as i>${i},</#list>", "{\"items\":[1,\"b\",true]}", 0, "1,b,true,", 0},
        {"<#list items as i>${i.name};</#list>", "{\"items\":[{\"name\":\"x\"},{\"name\":\"y\"}]}",
         0, "x;y;", 0},
        {"<#list items as i>x</#list>", "{\"items\":[]}", 0, "", 0},
        {"<#list o.items as i><#list i as j>${j}</#list>|</#list>",
         "{\"o\":{\"items\":[[1,2],[3]]}}", 0, "12|3|", 0},
        {"<#list items as name>${name}</#list>${name}", "{\"items\":[\"in\"],\"name\":\"out\"}", 0,
         "inout", 0},
        {"<#list items as i>${i}</#list>${i!\"gone\"}", "{\"items\":[1]}", 0, "1gone", 0},
        {"<#list items as i><#if i.show>${i.v}</#if></#list>",
         "{\"items\":[{\"show\":true,\"v\":1},{\"show\":false,\"v\":2},{\"v\":3}]}", 0, "1", 0},
        {"<#list items as i>${i}</#list>", "{}", 0, NULL,
         "ERR:Missing template variable items in body.template at line 1 column 8"},
        {"<#list items as i>${i}</#list>", "{\"items\":\"abc\"}", 0, NULL,
         "ERR:Cannot list items: not an array in body.template at line 1 column 8"},
        {"<#list items as i>${i}</#list>", "{\"items\":{\"a\":1}}", 0, NULL,
         "ERR:Cannot list items: not an array in body.template at line 1 column 8"},
        {"<#list items! as i>${i}</#list>", "{}", 0, "", 0},
        {"<#list items as i>${i}</#list>", "{\"items\":[null]}", 0, NULL,
         "ERR:Missing template variable i in body.template at line 1 column 21"},
    };
    check_table(g, N(g));
}

TT_TEST(rendering_errors)
{
    static const struct golden g[] = {
        {"Hello ${name}", "{}", 0, NULL,
         "ERR:Missing template variable name in body.template at line 1 column 9"},
        {"line1\nline2 ${user.name}", "{\"user\":{}}", 0, NULL,
         "ERR:Missing template variable user.name in body.template at line 2 column 9"},
        {"\xc3\xa9\xc3\xa9 ${x}", "{}", 0, NULL,
         "ERR:Missing template variable x in body.template at line 1 column 6"},
        {"${user.name}", "{}", 0, NULL,
         "ERR:Missing template variable user in body.template at line 1 column 3"},
        {"${user}", "{\"user\":{\"a\":1}}", 0, NULL,
         "ERR:Cannot render user: not a scalar in body.template at line 1 column 3"},
        {"${list}", "{\"list\":[1,2]}", 0, NULL,
         "ERR:Cannot render list: not a scalar in body.template at line 1 column 3"},
        {"${s.x}", "{\"s\":\"str\"}", 0, NULL,
         "ERR:Missing template variable s.x in body.template at line 1 column 3"},
        {"${x}", NULL, 0, NULL,
         "ERR:Missing template variable x in body.template at line 1 column 3"},
    };
    check_table(g, N(g));
}

TT_TEST(whitespace_stripping)
{
    static const struct golden g[] = {
        {"a\n<#if x>\nb\n</#if>\nc\n", "{\"x\":1}", 0, "a\nb\nc\n", 0},
        {"a\n  <#if x>  \n  b\n  </#if>\nc", "{\"x\":1}", 0, "a\n  b\nc", 0},
        {"a\n<#if x>\nb\n<#else>\nno\n</#if>\nc\n", "{}", 0, "a\nno\nc\n", 0},
        {"<#list l as i>\n- ${i}\n</#list>\n", "{\"l\":[1,2]}", 0, "- 1\n- 2\n", 0},
        {"a <#if x>b</#if> c\n", "{\"x\":1}", 0, "a b c\n", 0},
        {"x\n<#-- comment -->\ny", NULL, 0, "x\ny", 0},
        {"x\n  <#--\n multi\n line -->  \ny", NULL, 0, "x\ny", 0},
        {"${a} <#if x>t</#if>\n", "{\"a\":1,\"x\":1}", 0, "1 t\n", 0},
        {"  \n", NULL, 0, "  \n", 0},
        {"<#if x>\r\nyes\r\n</#if>\r\n", "{\"x\":1}", 0, "yes\r\n", 0},
        {"<#if x>a</#if>\n", "{\"x\":1}", 0, "a\n", 0},
        {"<#if x\n  && y>\nboth\n</#if>\n", "{\"x\":1,\"y\":1}", 0, "both\n", 0},
        {"a<#-- c -->b", NULL, 0, "ab", 0},
    };
    check_table(g, N(g));
}

TT_TEST(syntax_errors)
{
    static const struct golden g[] = {
        {"line1\nline2\n  x   <#if a>\n", NULL, 0, NULL,
         "SYNTAX:unclosed <#if> at line 3 column 7"},
        {"<#list a as b>", NULL, 0, NULL, "SYNTAX:unclosed <#list> at line 1 column 1"},
        {"abc ${name", NULL, 0, NULL, "SYNTAX:unclosed ${ at line 1 column 5"},
        {"${name x}", NULL, 0, NULL, "SYNTAX:unexpected \"x\" at line 1 column 8"},
        {"${}", NULL, 0, NULL, "SYNTAX:missing expression at line 1 column 3"},
        {"</#if>", NULL, 0, NULL, "SYNTAX:unexpected </#if> at line 1 column 1"},
        {"<#if a></#list>", NULL, 0, NULL, "SYNTAX:unexpected </#list> at line 1 column 8"},
        {"<#else>", NULL, 0, NULL, "SYNTAX:unexpected <#else> at line 1 column 1"},
        {"<#if a><#else><#else></#if>", NULL, 0, NULL,
         "SYNTAX:unexpected <#else> at line 1 column 15"},
        {"<#if a><#else><#elseif b></#if>", NULL, 0, NULL,
         "SYNTAX:unexpected <#elseif> at line 1 column 15"},
        {"<#list a as b><#else></#list>", NULL, 0, NULL,
         "SYNTAX:unexpected <#else> at line 1 column 15"},
        {"<#assign x = 1>", NULL, 0, NULL,
         "SYNTAX:unsupported directive <#assign> at line 1 column 1"},
        {"<#include \"x\">", NULL, 0, NULL,
         "SYNTAX:unsupported directive <#include> at line 1 column 1"},
        {"</#foo>", NULL, 0, NULL, "SYNTAX:unsupported directive </#foo> at line 1 column 1"},
        {"<@macro/>", NULL, 0, NULL, "SYNTAX:unsupported directive <@macro> at line 1 column 1"},
        {"${x?trim}", NULL, 0, NULL, "SYNTAX:unsupported built-in ?trim at line 1 column 4"},
        {"${x?string(\"0\")}", NULL, 0, NULL,
         "SYNTAX:unsupported built-in ?string at line 1 column 4"},
        {"${x?url('UTF-8')}", NULL, 0, NULL, "SYNTAX:unexpected \"(\" at line 1 column 8"},
        {"${x + 1}", NULL, 0, NULL, "SYNTAX:unexpected \"+\" at line 1 column 5"},
        {"<#if x = 1>y</#if>", NULL, 0, NULL, "SYNTAX:unexpected \"=\" at line 1 column 8"},
        {"<#if x > 1>", NULL, 0, NULL, "SYNTAX:unclosed <#if> at line 1 column 1"},
        {"<#if>", NULL, 0, NULL, "SYNTAX:missing expression at line 1 column 5"},
        {"<#if a", NULL, 0, NULL, "SYNTAX:unterminated <#if> at line 1 column 1"},
        {"<#list a b>", NULL, 0, NULL, "SYNTAX:expected \"as\" in <#list> at line 1 column 10"},
        {"<#list a as>", NULL, 0, NULL,
         "SYNTAX:expected a loop variable name in <#list> at line 1 column 12"},
        {"${\"abc}", NULL, 0, NULL, "SYNTAX:unterminated string literal at line 1 column 3"},
        {"${\"a\\qb\"}", NULL, 0, NULL,
         "SYNTAX:invalid escape in string literal at line 1 column 5"},
        {"${\"${x}\"}", NULL, 0, NULL,
         "SYNTAX:interpolation inside a string literal is not supported at line 1 column 4"},
        {"<#-- never closed", NULL, 0, NULL, "SYNTAX:unclosed comment at line 1 column 1"},
        {"${a.}", NULL, 0, NULL, "SYNTAX:expected a name after \".\" at line 1 column 4"},
        {"${(a}", NULL, 0, NULL, "SYNTAX:unexpected \"}\" at line 1 column 5"},
        {"${a ==}", NULL, 0, NULL, "SYNTAX:unexpected \"}\" at line 1 column 7"},
        {"x\n\xc3\xa9\xc3\xa9<#if>", NULL, 0, NULL, "SYNTAX:missing expression at line 2 column 7"},
    };
    check_table(g, N(g));
}

/* nest - n nested <#if>s */
static char *nest(int n)
{
    struct buf b = BUF_INIT(1 << 20);

    for (int i = 0; i < n; i++)
        buf_puts(&b, "<#if x>");
    buf_puts(&b, "deep");
    for (int i = 0; i < n; i++)
        buf_puts(&b, "</#if>");
    return buf_steal(&b, NULL);
}

TT_TEST(nesting_limit)
{
    char *ok = nest(32), *bad = nest(33), *got;

    got = run(ok, "{\"x\":1}", 0);
    TT_EQ_STR(got, "deep");
    xfree(got);
    got = run(bad, "{\"x\":1}", 0);
    TT_EQ_STR(got, "SYNTAX:nesting deeper than 32 at line 1 column 225");
    xfree(got);
    xfree(ok);
    xfree(bad);
    /* parentheses and negations are bounded too */
    struct buf b = BUF_INIT(1 << 20);
    buf_puts(&b, "${");
    for (int i = 0; i < 5000; i++)
        buf_putc(&b, '(');
    buf_puts(&b, "x");
    got = run(buf_ptr(&b), NULL, 0);
    TT_EQ_STR(got, "SYNTAX:nesting deeper than 32 at line 1 column 35");
    xfree(got);
    buf_reset(&b);
    buf_puts(&b, "<#if ");
    for (int i = 0; i < 100000; i++)
        buf_putc(&b, '!');
    buf_puts(&b, "x>y</#if>");
    got = run(buf_ptr(&b), NULL, 0);
    TT_ASSERT(strncmp(got, "SYNTAX:nesting deeper than 32", 29) == 0);
    xfree(got);
    /* long chains: bounded height, no deep recursion */
    buf_reset(&b);
    buf_puts(&b, "${a");
    for (int i = 0; i < 100000; i++)
        buf_puts(&b, ".b");
    buf_puts(&b, "}");
    got = run(buf_ptr(&b), NULL, 0);
    TT_ASSERT(strncmp(got, "SYNTAX:expression too complex", 29) == 0);
    xfree(got);
    buf_reset(&b);
    buf_puts(&b, "<#if a");
    for (int i = 0; i < 100000; i++)
        buf_puts(&b, " && a");
    buf_puts(&b, ">x</#if>");
    got = run(buf_ptr(&b), NULL, 0);
    TT_ASSERT(strncmp(got, "SYNTAX:expression too complex", 29) == 0);
    xfree(got);
    buf_free(&b);
}

TT_TEST(loop_limit)
{
    /* 400 x 250 = 100,000 inner iterations + 400 outer: over the limit */
    struct buf vars = BUF_INIT(1 << 20);
    char *got;

    buf_puts(&vars, "{\"a\":[");
    for (int i = 0; i < 400; i++)
        buf_printf(&vars, "%s0", i ? "," : "");
    buf_puts(&vars, "],\"b\":[");
    for (int i = 0; i < 250; i++)
        buf_printf(&vars, "%s0", i ? "," : "");
    buf_puts(&vars, "]}");
    got = run("x\n<#list a as i><#list b as j></#list></#list>", buf_ptr(&vars), 0);
    TT_ASSERT(strncmp(got, "ERR:Loop limit exceeded in body.template at line 2 column ", 57) == 0);
    xfree(got);
    /* exactly 100,000 iterations are fine (two lists of 50,000: the
       variables hold at most 100,000 values) */
    buf_reset(&vars);
    buf_puts(&vars, "{\"a\":[");
    for (int i = 0; i < 50000; i++)
        buf_printf(&vars, "%s0", i ? "," : "");
    buf_puts(&vars, "]}");
    got = run("<#list a as i></#list><#list a as i></#list>done", buf_ptr(&vars), 0);
    TT_EQ_STR(got, "done");
    xfree(got);
    buf_free(&vars);
}

TT_TEST(output_limit)
{
    struct buf big = BUF_INIT(4 << 20);
    char *got;

    buf_puts(&big, "{\"s\":\"");
    for (int i = 0; i < 600000; i++)
        buf_putc(&big, 'x');
    buf_puts(&big, "\"}");
    got = run("${s}${s}", buf_ptr(&big), 0);
    TT_EQ_STR(got, "ERR:Rendered body.template exceeds 1048576 bytes");
    xfree(got);
    got = run("${s}", buf_ptr(&big), 0);
    TT_EQ_INT(strlen(got), 600000);
    xfree(got);
    /* a built-in that grows a value past the limit */
    got = run("${s?url?url}", "{\"s\":\"                                        \"}", 0);
    TT_EQ_STR(got, "%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520"
                   "%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520"
                   "%2520%2520%2520%2520%2520%2520%2520%2520%2520%2520");
    xfree(got);
    buf_reset(&big);
    buf_puts(&big, "{\"s\":\"");
    for (int i = 0; i < 400000; i++)
        buf_putc(&big, '&');
    buf_puts(&big, "\"}");
    got = run("${s?html}", buf_ptr(&big), 0);
    TT_EQ_STR(got, "ERR:Rendered body.template exceeds 1048576 bytes");
    xfree(got);
    buf_free(&big);

    /* the output keeps what the caller had before a failed render */
    struct template *t;
    char err[TEMPLATE_ERR_MAX];
    struct buf out = BUF_INIT(1 << 20);
    json_t *v = json_pack("{s:s}", "a", "x");
    TT_EQ_INT(template_parse("${a}${b}", 8, "subject", &t, err, sizeof(err)), 0);
    buf_puts(&out, "keep");
    TT_EQ_INT(template_render(t, v, NULL, &out, err, sizeof(err)), -1);
    TT_EQ_STR(buf_ptr(&out), "keep");
    TT_EQ_STR(err, "Missing template variable b in subject.template at line 1 column 7");
    TT_EQ_STR(template_part(t), "subject");
    template_free(t);
    json_decref(v);
    buf_free(&out);
}

/* a template of more than 50,000 elements is a syntax error (~100 bytes each) */
TT_TEST(element_limit)
{
    char *src, *got;
    struct buf b = BUF_INIT(16 << 20);

    /* "${a}" is two elements: 25,000 are fine, 25,001 are not */
    for (int i = 0; i < 25000; i++)
        buf_puts(&b, "${a}");
    got = run(buf_ptr(&b), "{\"a\":\"\"}", 0);
    TT_EQ_STR(got, "");
    xfree(got);
    buf_puts(&b, "${a}");
    got = run(buf_ptr(&b), "{\"a\":\"\"}", 0);
    TT_EQ_STR(got, "SYNTAX:more than 50000 elements at line 1 column 100005");
    xfree(got);
    buf_puts(&b, "tail");
    got = run(buf_ptr(&b), "{\"a\":\"\"}", 0);
    TT_EQ_STR(got, "SYNTAX:more than 50000 elements at line 1 column 100005");
    xfree(got);
    /* one interpolation holding 400,000 expression nodes (height within 200) */
    buf_reset(&b);
    struct buf c1 = BUF_INIT(1 << 20), c2 = BUF_INIT(1 << 20);
    buf_putc(&c1, '(');
    for (int i = 0; i < 100; i++)
        buf_puts(&c1, i ? "||a" : "a");
    buf_putc(&c1, ')');
    buf_putc(&c2, '(');
    for (int i = 0; i < 40; i++)
        buf_printf(&c2, "%s%s", i ? "||" : "", buf_ptr(&c1));
    buf_putc(&c2, ')');
    buf_puts(&b, "x ${");
    for (int i = 0; i < 50; i++)
        buf_printf(&b, "%s%s", i ? "||" : "", buf_ptr(&c2));
    buf_puts(&b, "}");
    src = buf_steal(&b, NULL);
    got = run(src, "{\"a\":\"\"}", 0);
    TT_ASSERT(strncmp(got, "SYNTAX:more than 50000 elements at line 1 column ", 49) == 0);
    xfree(got);
    xfree(src);
    buf_free(&c1);
    buf_free(&c2);
}

/* the variables of one rendering: 100,000 values, 1 MB of names and strings, 64 levels */
TT_TEST(vars_limit)
{
    struct buf v = BUF_INIT(16 << 20);
    char *got;

    /* 99,999 elements and their array: fine; one more is not */
    buf_puts(&v, "{\"a\":[");
    for (int i = 0; i < 99999; i++)
        buf_printf(&v, "%s{}", i ? "," : "");
    buf_puts(&v, "]}");
    got = run("ok", buf_ptr(&v), 0);
    TT_EQ_STR(got, "ok");
    xfree(got);
    buf_truncate(&v, v.len - 2);
    buf_puts(&v, ",1]}");
    got = run("ok", buf_ptr(&v), 0);
    TT_EQ_STR(got, "ERR:Template variables of body.template exceed 100000 values");
    xfree(got);
    /* bytes: member names and strings; 1,048,576 fine, one more not */
    buf_reset(&v);
    buf_puts(&v, "{\"ab\":\"");
    for (int i = 0; i < 1048576 - 3; i++)
        buf_putc(&v, 'x');
    buf_puts(&v, "\",\"c\":1}");
    got = run("ok", buf_ptr(&v), 0);
    TT_EQ_STR(got, "ok");
    xfree(got);
    buf_truncate(&v, v.len - 8);
    buf_puts(&v, "x\",\"c\":1}");
    got = run("ok", buf_ptr(&v), 0);
    TT_EQ_STR(got, "ERR:Template variables of body.template exceed 1048576 bytes");
    xfree(got);
    /* levels: the object and 63 arrays in it; 64 arrays */
    for (int n = 63; n <= 64; n++) {
        buf_reset(&v);
        buf_puts(&v, "{\"a\":");
        for (int i = 0; i < n; i++)
            buf_putc(&v, '[');
        for (int i = 0; i < n; i++)
            buf_putc(&v, ']');
        buf_putc(&v, '}');
        got = run("ok", buf_ptr(&v), 0);
        TT_EQ_STR(got, n == 63 ? "ok" : "ERR:Template variables of body.template exceed 64 levels");
        xfree(got);
    }
    buf_free(&v);
}

TT_TEST(parse_once_render_many)
{
    struct template *t;
    char err[TEMPLATE_ERR_MAX];
    const char *src =
        "Dear ${name?cap_first},\n<#list orders as o>\n- ${o.id}: ${o.total}\n</#list>\n";

    TT_EQ_INT(template_parse(src, strlen(src), "alternative", &t, err, sizeof(err)), 0);
    for (int i = 0; i < 3; i++) {
        struct buf out = BUF_INIT(1 << 20);
        json_t *v = json_pack("{s:s,s:[{s:i,s:f}]}", "name", i == 0 ? "ann" : "bob", "orders", "id",
                              i, "total", 9.5);
        TT_EQ_INT(template_render(t, v, NULL, &out, err, sizeof(err)), 0);
        char want[128];
        snprintf(want, sizeof(want), "Dear %s,\n- %d: 9.5\n", i == 0 ? "Ann" : "Bob", i);
        TT_EQ_STR(buf_ptr(&out), want);
        json_decref(v);
        buf_free(&out);
    }
    /* a missing variable: the error names the part and the position */
    struct buf out = BUF_INIT(1 << 20);
    json_t *v = json_pack("{s:s}", "name", "x");
    TT_EQ_INT(template_render(t, v, NULL, &out, err, sizeof(err)), -1);
    TT_EQ_STR(err, "Missing template variable orders in alternative.template at line 2 column 8");
    json_decref(v);
    buf_free(&out);
    template_free(t);
}

TT_TEST(hostile_input)
{
    /* never crashes on odd bytes: NUL, invalid UTF-8, stray delimiters */
    static const char *const srcs[] = {
        "\xff\xfe${",
        "<#",
        "</#",
        "<#if",
        "${\"\\x",
        "${'",
        "${a?",
        "${a.",
        "${a!",
        "<#list",
        "<#list x as",
        "<#list x as y",
        "${a!(",
        "${((((",
        "<#if !",
        "${-",
        "${--1}",
        "${1.}",
        "${a!\"x\"!}",
        "<#--->",
        "${\"\\xZZ\"}",
        "<#if a>\xc3",
        "$${{}}",
        "<#if (a)>x</#if>",
        "${a?upper_case?}",
        "<@",
        "</@",
        "<#1>",
    };
    for (size_t i = 0; i < N(srcs); i++) {
        char *got = run(srcs[i], "{\"a\":\"\\u00e9\"}", 0);
        xfree(got);
    }
    /* NUL inside the source is text */
    struct template *t;
    char err[TEMPLATE_ERR_MAX];
    struct buf out = BUF_INIT(1024);
    TT_EQ_INT(template_parse("a\0b${x}", 7, "body", &t, err, sizeof(err)), 0);
    json_t *v = json_pack("{s:s}", "x", "!");
    TT_EQ_INT(template_render(t, v, NULL, &out, err, sizeof(err)), 0);
    TT_EQ_MEM(out.data, out.len, "a\0b!", 4);
    json_decref(v);
    buf_free(&out);
    template_free(t);
}

TT_MAIN(TT_CASE(interpolation), TT_CASE(defaults), TT_CASE(builtins), TT_CASE(auto_escape),
        TT_CASE(conditions), TT_CASE(lists), TT_CASE(rendering_errors),
        TT_CASE(whitespace_stripping), TT_CASE(syntax_errors), TT_CASE(nesting_limit),
        TT_CASE(loop_limit), TT_CASE(output_limit), TT_CASE(element_limit), TT_CASE(vars_limit),
        TT_CASE(parse_once_render_many), TT_CASE(hostile_input))
