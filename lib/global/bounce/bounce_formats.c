/*
 * bounce_formats - the provider text formats as data: how a bounce of each
 * MTA or mailbox provider is recognised, where its error section starts
 * and ends, and how its recipient lines look. bounce_text.c interprets
 * the rows in order; the first that gives records wins. A new format is a
 * new row (put specific rows before the generic ones at the end).
 *
 * Fields: mta (the name reported), from / subject (substrings of From: and
 * Subject:, any matches), begin (a line containing one starts the error
 * section), end (a line containing one ends it; common end markers and
 * the start of a header block end it too), rcpt (recipient line patterns:
 * "%a" address, "*" any text, " " blanks), need_sender (the begin markers
 * alone do not identify the format).
 */
#include "bounce_int.h"

const struct bounce_format bounce_formats[] = {
    {.mta = "exim",
     .begin = {"The following address(es) failed:", "following address(es) failed",
               "could not be delivered to one or more of its"},
     .end = {"------ This is a copy of the message", "------ The body of the message"},
     .rcpt = {"%a", "%a:", "%a: *", "%a <*>", "%a (*)"}},
    {.mta = "qmail",
     .begin = {"I'm afraid I wasn't able to deliver your message",
               "This is the qmail-send program"},
     .end = {"--- Below this line is"},
     .rcpt = {"%a:", "%a: *"}},
    {.mta = "gmail",
     .begin = {"Delivery to the following recipient", "Delivery to these recipients"},
     .end = {"----- Original message -----", "----- Message header follows -----"},
     .rcpt = {"%a"}},
    {.mta = "exchange2003",
     .begin = {"did not reach the following recipient"},
     .rcpt = {"%a on *", "%a"}},
    {.mta = "yahoo",
     .begin = {"Sorry, we were unable to deliver your message to the following address"},
     .rcpt = {"%a:", "%a: *"}},
    {.mta = "postfix",
     .begin = {"This is the mail system at host",
               "I'm sorry to have to inform you that your message"},
     .end = {"--- Delivery report unavailable ---"},
     .rcpt = {"%a: *", "%a (expanded from *): *", "%a:"}},
    {.mta = "generic",
     .from = {"mailer-daemon", "postmaster", "mail-daemon"},
     .subject = {"undeliver", "failure", "returned mail", "delivery"},
     .need_sender = 1,
     .rcpt = {"%a", "%a: *", "%a...*", "%a:", "recipient: %a", "to: %a"}},
};

const int bounce_nformats = (int)(sizeof(bounce_formats) / sizeof(bounce_formats[0]));
