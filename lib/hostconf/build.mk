# lib/hostconf: the host's configuration for OS Login (nsswitch, the sshd
# drop-in and its policy lines, the PAM stack, TrustedUserCAKeys), the mode
# last applied, and the takeover from Google's guest environment. Linked by
# accountsd and osloginctl.
HOSTCONF_SRCS := \
	lib/hostconf/config-file.c \
	lib/hostconf/host-mode.c \
	lib/hostconf/sshd-policy.c \
	lib/hostconf/sysconf.c \
	lib/hostconf/sysconf-nsswitch.c \
	lib/hostconf/sysconf-pam.c \
	lib/hostconf/sysconf-sshd.c \
	lib/hostconf/takeover.c \
	lib/hostconf/takeover-agent.c \
	lib/hostconf/takeover-files.c \
	lib/hostconf/trusted-ca.c

HOSTCONF_OBJS := $(HOSTCONF_SRCS:%.c=$(B)/%.o)
$(HOSTCONF_OBJS): ALL_CFLAGS += $(JSONC_CFLAGS)

$(B)/libhostconf.a: $(HOSTCONF_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

all: $(B)/libhostconf.a
