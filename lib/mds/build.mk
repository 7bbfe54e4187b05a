# lib/mds: the metadata client, JSON models, ssh-keys parser, config parser.
# libcurl + json-c + libinih; never linked into the NSS module.
MDS_SRCS :=

MDS_OBJS := $(MDS_SRCS:%.c=$(B)/%.o)
$(MDS_OBJS): ALL_CFLAGS += $(JSONC_CFLAGS)

$(B)/libmds.a: $(MDS_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

all: $(B)/libmds.a
