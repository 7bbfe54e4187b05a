# lib/accounts: local accounts from metadata ssh-keys: the /etc transaction,
# UID map, managed users, homes, authorized_keys, the reconcile that ties
# them together, sudoers drop-ins (visudo) and the purge. Linked by
# accountsd, osloginctl and test tools.
ACCOUNTS_SRCS := \
	lib/accounts/authorized-keys.c \
	lib/accounts/etc-db.c \
	lib/accounts/etc-db-commit.c \
	lib/accounts/etc-db-members.c \
	lib/accounts/home.c \
	lib/accounts/keys-reconcile.c \
	lib/accounts/keys-reconcile-provision.c \
	lib/accounts/managed-users.c \
	lib/accounts/purge.c \
	lib/accounts/sudoers.c \
	lib/accounts/uid-map.c

ACCOUNTS_OBJS := $(ACCOUNTS_SRCS:%.c=$(B)/%.o)
$(ACCOUNTS_OBJS): ALL_CFLAGS += $(JSONC_CFLAGS)

$(B)/libaccounts.a: $(ACCOUNTS_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

all: $(B)/libaccounts.a
