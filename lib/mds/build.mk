# lib/mds: the metadata client, JSON models, ssh-keys parser, config parser.
# libcurl + json-c + libinih + libcrypto; only accountsd and test tools link
# it (never the NSS module).
MDS_SRCS := \
	lib/mds/config.c \
	lib/mds/mds-client.c \
	lib/mds/mds-curl.c \
	lib/mds/models.c \
	lib/mds/oslogin-api.c \
	lib/mds/policies.c \
	lib/mds/two-factor.c \
	lib/mds/ssh-cert.c \
	lib/mds/ssh-keys.c

MDS_OBJS := $(MDS_SRCS:%.c=$(B)/%.o)
# libcurl through pkg-config, and nothing else: a build without its
# development files (Debian: libcurl4-openssl-dev) stops here by name.
CURL_CFLAGS := $(call pkg_cflags,libcurl)
CURL_LIBS   := $(call pkg_libs,libcurl)
MDS_DEP_LIBS += $(CURL_LIBS)

$(MDS_OBJS): ALL_CFLAGS += $(JSONC_CFLAGS) $(CURL_CFLAGS)

$(B)/libmds.a: $(MDS_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

all: $(B)/libmds.a
