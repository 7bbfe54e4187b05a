# The OS Login directory part of accountsd: cache builds and NSS misses.
ACCOUNTSD_LIB_SRCS += \
	accountsd/directory.c \
	accountsd/directory-answers.c \
	accountsd/directory-fetch.c \
	accountsd/directory-local.c \
	accountsd/directory-members.c \
	accountsd/directory-records.c \
	accountsd/users-group.c
