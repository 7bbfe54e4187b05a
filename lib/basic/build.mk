# lib/basic: libc only, static, -fPIC. Everything links it, the NSS module too.
BASIC_SRCS := \
	lib/basic/alloc-util.c \
	lib/basic/atomic-file.c \
	lib/basic/broker-proto.c \
	lib/basic/cache-format.c \
	lib/basic/cache-reader.c \
	lib/basic/cache-record.c \
	lib/basic/cache-writer.c \
	lib/basic/local-db.c \
	lib/basic/local-db-watch.c \
	lib/basic/log.c \
	lib/basic/mkdir-util.c \
	lib/basic/negative-table.c \
	lib/basic/message-header.c \
	lib/basic/nss-proto.c \
	lib/basic/parse-util.c \
	lib/basic/path-util.c \
	lib/basic/socket-util.c \
	lib/basic/selinux-util.c \
	lib/basic/strmap.c \
	lib/basic/strv.c \
	lib/basic/two-factor-types.c \
	lib/accounts/sudoers.c \
	lib/basic/time-util.c \
	lib/basic/u32set.c \
	lib/basic/valid.c

BASIC_OBJS := $(BASIC_SRCS:%.c=$(B)/%.o)

$(B)/libbasic.a: $(BASIC_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

all: $(B)/libbasic.a
