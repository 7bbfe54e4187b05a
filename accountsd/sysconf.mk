# Host configuration for OS Login (nsswitch, sshd), used by accountsd and osloginctl.
ACCOUNTSD_LIB_SRCS += accountsd/sysconf.c
