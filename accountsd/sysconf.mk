# Host configuration for OS Login (nsswitch, sshd, PAM), used by accountsd and osloginctl.
ACCOUNTSD_LIB_SRCS += accountsd/sysconf.c
ACCOUNTSD_LIB_SRCS += accountsd/sysconf-pam.c
