/*
 * slip - the routing slip of a job and the stages an installation runs
 * (DESIGN.md §2, docs/ENVELOPES.md "Slips"), one rule for txmail-rest and
 * txmail-smtpd.
 *
 * The installed stages are the producer's parameter (rest_stages,
 * smtpd_stages): names of work stages (mq_stages) separated by commas or
 * blanks; render and deliver are always among them. A job's slip holds
 * render and deliver and the stage of every feature the job uses, in the
 * order of mq_stages:
 *
 *   [scan] [securezip] render [spamcheck] [smime] deliver
 *
 *   scan        antivirus, Trace & Recover, Secure Document Handling
 *   securezip   Secure Document Handling with a flagged attachment
 *   spamcheck   the spam check
 *   smime       Message Signing
 *
 * A job that needs a stage the installation does not run is refused as a
 * feature not enabled (REST 403 FORBIDDEN_BY_CONFIG, SMTP 550 5.7.1): the
 * producer asks slip_offers() for each switch it reads, so that it can
 * name the switch, and slip_build() refuses whatever is left.
 */
#ifndef TX_SLIP_H
#define TX_SLIP_H

#include <stddef.h>

#define SLIP_TEXT_MAX 160 /* the longest slip text, with its NUL */

enum slip_feature {
    SLIP_ANTIVIRUS,
    SLIP_TRACE_RECOVER,
    SLIP_SECURE_DOCUMENT,
    SLIP_SECURE_ZIP, /* Secure Document Handling with a flagged attachment */
    SLIP_MESSAGE_SIGNING,
    SLIP_SPAM_CHECK,
    SLIP_NFEATURES
};

/* the features one job uses (1 = on); index by enum slip_feature */
struct slip_features {
    int on[SLIP_NFEATURES];
};

/*
 * slip_stages_check - a value for <param> (rest_stages, smtpd_stages):
 * 0, or -1 with err saying what is wrong (an unknown stage, too many,
 * render or deliver missing), prefixed with param.
 */
int slip_stages_check(const char *param, const char *stages, char *err, size_t errsz);
/* slip_installed - 1 when stage is one of the installed stages */
int slip_installed(const char *stages, const char *stage);
/* slip_stage_of - the stage feature f needs */
const char *slip_stage_of(enum slip_feature f);
/* slip_offers - 1 when the installation runs the stage feature f needs */
int slip_offers(const char *stages, enum slip_feature f);
/*
 * slip_build - the slip of a job using the features f ("scan,render,deliver")
 * into out: 0, or -1 when one of them needs a stage the installation does
 * not run (*missing says which, the first in the order of enum
 * slip_feature; out is then empty).
 */
int slip_build(const char *stages, const struct slip_features *f, char *out, size_t outsz,
               enum slip_feature *missing);

#endif
