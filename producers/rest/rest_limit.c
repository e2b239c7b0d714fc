/*
 * rest_limit - per-account request rate and concurrent-request limits
 * (contract §3.2, txmail addition), from the account settings rateLimit
 * (requests per second, token bucket with a burst of one second) and
 * concurrencyLimit; 0 turns a limit off. An account whose concurrencyLimit
 * is absent or null gets rest_account_concurrency (16): each request may
 * hold a 20 MB body and its tree, so one tenant's parallel requests are
 * bounded by default. A slot is taken when the headers are in and given
 * back when the request ends. The counters are per process:
 * with N producers behind a load balancer an account gets up to N times
 * the limit, which is why the limits protect the platform rather than
 * meter the customer (capacity_per_hour does that, §10.2).
 */
#include "producers/rest/rest.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <math.h>
#include <pthread.h>

#define LIMIT_SLOTS 4096

struct slot {
    long long account; /* 0: free */
    int active;
    double tokens;
    int64_t last;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[LIMIT_SLOTS];

/* find - the account's slot (created); NULL when the table is full */
static struct slot *find(long long account)
{
    unsigned h = (unsigned)((unsigned long long)account * 2654435761u) % LIMIT_SLOTS;

    for (int i = 0; i < LIMIT_SLOTS; i++) {
        struct slot *s = &slots[(h + (unsigned)i) % LIMIT_SLOTS];
        if (s->account == account)
            return s;
        if (s->account == 0) {
            s->account = account;
            s->last = timeutil_mono_ms();
            s->tokens = -1; /* filled on first use */
            return s;
        }
    }
    return NULL;
}

static double setting(const struct auth_account *a, const char *name)
{
    json_t *v = json_object_get(a->settings, name);

    return json_is_number(v) && json_number_value(v) > 0 ? json_number_value(v) : 0;
}

/* concurrency - concurrencyLimit; absent or null: rest_account_concurrency */
static double concurrency(const struct auth_account *a)
{
    json_t *v = json_object_get(a->settings, "concurrencyLimit");

    if (v == NULL || json_is_null(v))
        return rest_conf.account_concurrency > 0 ? (double)rest_conf.account_concurrency : 0;
    return setting(a, "concurrencyLimit");
}

enum rest_limit rest_limit_enter(const struct auth_account *a, int *retry_after, int *held)
{
    double rate = setting(a, "rateLimit"), conc = concurrency(a);
    enum rest_limit rc = REST_LIMIT_OK;
    int64_t now = timeutil_mono_ms();
    struct slot *s;

    *retry_after = 0;
    *held = 0;
    if (rate <= 0 && conc <= 0)
        return REST_LIMIT_OK;
    pthread_mutex_lock(&lock);
    s = find(a->id);
    if (s == NULL) {
        pthread_mutex_unlock(&lock);
        msg_warn("rest_limit: more than %d accounts with limits: not limiting %s", LIMIT_SLOTS,
                 a->name);
        return REST_LIMIT_OK;
    }
    if (rate > 0) {
        double burst = rate < 1 ? 1 : rate;
        s->tokens = s->tokens < 0
                        ? burst
                        : fmin(burst, s->tokens + (double)(now - s->last) / 1000.0 * rate);
        s->last = now;
        if (s->tokens < 1) {
            *retry_after = (int)ceil((1 - s->tokens) / rate);
            rc = REST_LIMIT_RATE;
        }
    }
    if (rc == REST_LIMIT_OK && conc > 0 && s->active >= (int)conc) {
        *retry_after = 1;
        rc = REST_LIMIT_CONCURRENCY;
    }
    if (rc == REST_LIMIT_OK) {
        if (rate > 0)
            s->tokens -= 1;
        s->active++;
        *held = 1;
    }
    pthread_mutex_unlock(&lock);
    if (*retry_after < 1)
        *retry_after = 1;
    return rc;
}

void rest_limit_leave(long long account_id)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find(account_id);
    if (s && s->active > 0)
        s->active--;
    pthread_mutex_unlock(&lock);
}
