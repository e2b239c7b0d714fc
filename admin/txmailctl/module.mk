# admin/txmailctl - administration CLI
PROGRAMS += txmailctl
txmailctl_SRC := admin/txmailctl/txmailctl.c admin/txmailctl/txmailctl_db.c \
                 admin/txmailctl/txmailctl_account.c admin/txmailctl/txmailctl_domain.c \
                 admin/txmailctl/txmailctl_mq.c
txmailctl_SRC += admin/txmailctl/txmailctl_report.c
txmailctl_SRC += admin/txmailctl/txmailctl_suppression.c
txmailctl_SRC += admin/txmailctl/txmailctl_deadletter.c
txmailctl_LIBS := -lresolv
txmailctl_SRC += admin/txmailctl/txmailctl_smime.c
