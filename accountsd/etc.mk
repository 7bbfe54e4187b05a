# The metadata-keys side of accountsd: /etc transaction, UID map, homes and
# authorized_keys, the reconcile that ties them together.
ACCOUNTSD_LIB_SRCS += \
	accountsd/authorized-keys.c \
	accountsd/etc-db.c \
	accountsd/etc-db-commit.c \
	accountsd/google-users.c \
	accountsd/home.c \
	accountsd/keys-reconcile.c \
	accountsd/uid-map.c
