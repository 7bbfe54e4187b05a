# Host configuration for OS Login (nsswitch, sshd, PAM), used by accountsd and
# osloginctl, and the takeover from Google's guest environment.
ACCOUNTSD_LIB_SRCS += accountsd/sysconf.c
ACCOUNTSD_LIB_SRCS += accountsd/sysconf-nsswitch.c
ACCOUNTSD_LIB_SRCS += accountsd/sysconf-pam.c
ACCOUNTSD_LIB_SRCS += accountsd/sysconf-sshd.c
ACCOUNTSD_LIB_SRCS += accountsd/takeover.c
ACCOUNTSD_LIB_SRCS += accountsd/takeover-agent.c
ACCOUNTSD_LIB_SRCS += accountsd/takeover-files.c
