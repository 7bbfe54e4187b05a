# lib/mds: the metadata client, JSON models, ssh-keys parser, config parser.
# json-c + libinih + libcrypto (HTTP is our own, http.c); never linked into
# the NSS module.
MDS_SRCS := \
	lib/mds/config.c \
	lib/mds/http.c \
	lib/mds/http-parser.c \
	lib/mds/mds-client.c \
	lib/mds/models.c \
	lib/mds/oslogin-api.c \
	lib/mds/policies.c \
	lib/mds/two-factor.c \
	lib/mds/ssh-cert.c \
	lib/mds/ssh-keys.c

MDS_OBJS := $(MDS_SRCS:%.c=$(B)/%.o)
$(MDS_OBJS): ALL_CFLAGS += $(JSONC_CFLAGS)

$(B)/libmds.a: $(MDS_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

all: $(B)/libmds.a
