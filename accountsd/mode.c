/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "accounts/keys-reconcile.h"
#include "accountsd/mode.h"
#include "hostconf/host-mode.h"
#include "hostconf/sysconf.h"
#include "hostconf/takeover.h"
#include "accountsd/users-group.h"
#include "basic/local-db.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/message-ids.h"
#include "basic/time-util.h"
#include "basic/strv.h"
#include "accounts/sudoers.h"
#include "mds/mds-client.h"
#include "mds/models.h"
#include "mds/ssh-keys.h"

/* The metadata switches the sshd drop-in follows (doc/oslogin-policies.md). */
struct host_policy {
        bool two_factor;    /* enable-oslogin-2fa */
        bool certificates;  /* enable-oslogin-certificates */
        bool security_keys; /* enable-oslogin-sk */
};

struct mode {
        const struct daemon_context *ctx;
        struct mode_callbacks callbacks;
        void *userdata;
        enum host_mode applied;
        /* Whether this run has applied the host configuration yet, and with
         * which enable-oslogin-2fa. The first pass always applies it (the
         * edits are idempotent): a stateless /etc may have come back from
         * the image while the recorded mode in /var survived. */
        bool configured;
        struct host_policy policy;
        struct metadata_document *doc;   /* the last document that parsed */
        sd_event_source *retry_timer;    /* CLOCK_MONOTONIC: a per-user failure or a failed switch */
        sd_event_source *expiry_timer;   /* CLOCK_REALTIME: the earliest key expiry */
        sd_event_source *takeover_timer; /* CLOCK_MONOTONIC: a look for the agent's rewrite */
        char **logged_rejections;        /* "user\nreason" of the last document, logged already */
        bool logged_unmanaged, logged_no_metadata_accounts, logged_agent_accounts;
        char host_failed_step[160]; /* the step of the last failed host configuration, "" */

        /* For `osloginctl status`. */
        unsigned reconciles;
        struct reconcile_result last;
        int last_error;
        uint64_t last_realtime_usec;
};

/* Rejected and expired lines are logged when they first appear, not at
 * every poll, each by its place (source and line), user and key start. */
static int log_rejection_once(struct mode *mo, char ***now, const struct ssh_key_rejection *e)
{
        _cleanup_free_ char *id = NULL;
        const char *user = e->user ?: "(invalid name)";

        if (asprintf(&id, "%s\n%s\n%s\n%s", user, e->reason, e->source ?: "", e->hint ?: "") < 0 ||
                strv_extend(now, id) < 0)
                return -ENOMEM;
        if (!strv_contains(mo->logged_rejections, id))
                log_warning("Ignoring the %s line %u for \"%s\" (%s): %s.", e->source ?: "ssh-keys", e->line,
                        user, e->hint ?: "?", e->reason);
        return 0;
}

static void log_new_rejections(struct mode *mo, const struct ssh_key_set *keys)
{
        _cleanup_strv_free_ char **now = NULL;

        for (size_t i = 0; i < keys->n_rejected; i++)
                if (log_rejection_once(mo, &now, &keys->rejected[i]) < 0)
                        return;
        for (size_t i = 0; i < keys->n_expired; i++)
                if (log_rejection_once(mo, &now, &keys->expired[i]) < 0)
                        return;
        strv_free(mo->logged_rejections);
        mo->logged_rejections = TAKE_PTR(now);
}

static int revoke_all_sudoers(const char *root)
{
        _cleanup_strv_free_ char **users = NULL;
        int r = sudoers_list(root, &users);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        STRV_FOREACH (u, users)
                if ((r = sudoers_revoke(root, *u)) < 0)
                        log_error_errno(r, "Cannot revoke the sudoers drop-in of \"%s\": %m", *u);
                else if (r > 0)
                        log_event(LOG_NOTICE, MESSAGE_ID_SUDO_REVOKED,
                                LOG_FIELDS(
                                        {"OSLOGIN_USER", *u}, {"OSLOGIN_REASON", "OS Login switched off"}),
                                "Sudo revoked for \"%s\": OS Login switched off.", *u);
        return 0;
}

/* What the guest environment left behind goes, in either mode; its
 * blocks in sshd/PAM/nsswitch go with ours, in sysconf's transaction. */
static void take_over(struct mode *mo)
{
        const struct daemon_context *ctx = mo->ctx;
        int r = takeover_files(ctx->root, ctx->config.manage_host_config);
        if (r < 0)
                log_warning_errno(r, "Some of the guest environment's files could not be removed: %m");
        r = takeover_agent_switch_off(ctx->root);
        if (r < 0)
                log_warning_errno(r, "Cannot switch off the guest agent's account manager: %m");
}

/* The users group must not be a local group's name or GID: it would put
 * local users under OS Login's key rule, or give the group a second name. */
static int check_users_group(struct mode *mo)
{
        const struct oslogin_config *c = &mo->ctx->config;
        _cleanup_local_db_ struct local_db *db = NULL;
        int r;

        if (isempty(c->users_group))
                return 0;
        r = local_db_load(mo->ctx->root, &db);
        if (r >= 0)
                r = users_group_check(db, c->users_group, c->users_gid, c->uid_floor);
        if (r < 0)
                snprintf(mo->host_failed_step, sizeof(mo->host_failed_step),
                        "sshd: [sshd] users_group \"%s\" (GID %u) %s", c->users_group, c->users_gid,
                        r == -EEXIST   ? "is a local group's name or GID"
                        : r == -EINVAL ? "is not a valid group name and GID above uid_floor"
                                       : "cannot be checked against /etc/group");
        return r;
}

static int apply_host_config(struct mode *mo, enum host_mode want, const struct host_policy *policy)
{
        const struct daemon_context *ctx = mo->ctx;
        struct sysconf_options so;
        struct sysconf_report rep;
        int r;

        if (!ctx->config.manage_host_config) {
                if (!mo->logged_unmanaged)
                        log_notice("manage_host_config = false: sshd, nsswitch and PAM are left to the "
                                   "administrator (osloginctl status lists what OS Login needs).");
                mo->logged_unmanaged = true;
                return 0;
        }
        sysconf_options_default(&so);
        so.root = ctx->root;
        so.akc_user = ctx->config.akc_user ?: so.akc_user;
        so.two_factor = policy->two_factor;
        so.certificates = policy->certificates;
        so.security_keys = policy->security_keys;
        so.cert_authentication = ctx->config.cert_authentication;
        so.users_group = isempty(ctx->config.users_group) ? NULL : ctx->config.users_group;
        if (want == HOST_MODE_OSLOGIN && (r = check_users_group(mo)) < 0) {
                log_error("Cannot activate the OS Login configuration: %s. Nothing was changed.",
                        mo->host_failed_step);
                return r;
        }
        r = sysconf_apply(&so, want == HOST_MODE_OSLOGIN, &rep);
        snprintf(mo->host_failed_step, sizeof(mo->host_failed_step), "%s", rep.failed_step);
        return r;
}

/* Switches the host configuration to WANT; 0 when done (or nothing to do). */
static const char *true_false(bool b)
{
        return b ? "true" : "false";
}

static bool host_policy_equal(const struct host_policy *a, const struct host_policy *b)
{
        return a->two_factor == b->two_factor && a->certificates == b->certificates &&
               a->security_keys == b->security_keys;
}

static int switch_mode(struct mode *mo, enum host_mode want, const struct host_policy *policy)
{
        const struct daemon_context *ctx = mo->ctx;
        int r;

        /* The agent writes its blocks again on metadata changes: a pass that
         * finds them applies the (idempotent) configuration again. */
        if (mo->configured && mo->applied == want &&
                (want != HOST_MODE_OSLOGIN || host_policy_equal(&mo->policy, policy)) &&
                !takeover_pending(ctx->root, ctx->config.manage_host_config))
                return 0;
        take_over(mo);
        r = apply_host_config(mo, want, policy);
        if (r < 0)
                return r; /* sysconf logged the step; nothing was changed */
        if (want == HOST_MODE_METADATA_KEYS)
                (void)revoke_all_sudoers(ctx->root); /* OS Login grants end with OS Login */
        if (!mo->configured || mo->applied != want || !host_policy_equal(&mo->policy, policy))
                log_event(LOG_INFO, MESSAGE_ID_MODE_SWITCH,
                        LOG_FIELDS({"OSLOGIN_MODE", host_mode_to_string(want)},
                                {"OSLOGIN_TWO_FACTOR", true_false(policy->two_factor)},
                                {"OSLOGIN_CERTIFICATES", true_false(policy->certificates)},
                                {"OSLOGIN_SECURITY_KEYS", true_false(policy->security_keys)}),
                        "OS Login configuration %s (enable-oslogin=%s, enable-oslogin-2fa=%s, "
                        "enable-oslogin-certificates=%s, enable-oslogin-sk=%s).",
                        want == HOST_MODE_OSLOGIN ? "activated" : "deactivated",
                        want == HOST_MODE_OSLOGIN ? "true" : "false", true_false(policy->two_factor),
                        true_false(policy->certificates), true_false(policy->security_keys));
        mo->applied = want;
        mo->configured = true;
        mo->policy = *policy;
        r = host_mode_save(ctx->root, want);
        if (r < 0)
                log_warning_errno(
                        r, "Cannot record the mode in " OSLOGIN_STATE_DIR "/" MODE_STATE_FILE ": %m");
        return 0;
}

static void arm_timer(sd_event_source *s, uint64_t usec)
{
        if (usec == 0) {
                sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return;
        }
        sd_event_source_set_time(s, usec);
        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* [Accounts] of the guest agent's instance_configs.cfg for what
 * oslogin.conf leaves unset, so a host keeps the agent's behaviour. */
static void import_agent_accounts(struct mode *mo, struct reconcile_options *o, struct agent_accounts *a)
{
        const struct oslogin_config *c = &mo->ctx->config;

        if ((c->groups_set && c->deprovision_remove_set && c->reuse_homedir_set) ||
                takeover_agent_accounts(mo->ctx->root, a) < 0)
                return;
        if (!c->groups_set && a->has_groups)
                o->extra_groups = a->groups;
        if (!c->deprovision_remove_set && a->has_deprovision_remove)
                o->deprovision_remove = a->deprovision_remove;
        if (!c->reuse_homedir_set && a->has_reuse_homedir)
                o->ignore_home_owner = !a->reuse_homedir;
        if (!mo->logged_agent_accounts &&
                (a->has_groups || a->has_deprovision_remove || a->has_reuse_homedir))
                log_info(
                        "Using the guest agent's [Accounts] settings from /etc/default/instance_configs.cfg "
                        "where oslogin.conf sets none: groups=%s, deprovision_remove=%s, reuse_homedir=%s.",
                        !c->groups_set && a->has_groups ? "imported" : "ours",
                        !c->deprovision_remove_set && a->has_deprovision_remove ? "imported" : "ours",
                        !c->reuse_homedir_set && a->has_reuse_homedir ? "imported" : "ours");
        mo->logged_agent_accounts = true;
}

static int reconcile_keys(struct mode *mo, bool oslogin, struct reconcile_result *ret)
{
        const struct daemon_context *ctx = mo->ctx;
        _cleanup_(ssh_key_set_done) struct ssh_key_set keys = {};
        _cleanup_(agent_accounts_done) struct agent_accounts agent = {};
        struct reconcile_options o = {
                .root = ctx->root,
                .extra_groups = ctx->config.groups,
                .deprovision_remove = ctx->config.deprovision_remove,
                .ignore_home_owner = !ctx->config.reuse_homedir,
                .uid_min = ctx->config.uid_min,
                .uid_max = ctx->config.uid_max,
                .home_base = ctx->config.home_base,
                .shell = ctx->config.shell,
        };
        int r;

        import_agent_accounts(mo, &o, &agent);
        if (!ctx->config.metadata_accounts && !oslogin && !mo->logged_no_metadata_accounts)
                log_notice("metadata_accounts = false: ssh-keys in the metadata make no account; the ones "
                           "made earlier are deprovisioned.");
        mo->logged_no_metadata_accounts = !ctx->config.metadata_accounts;
        /* In OS Login mode, or with metadata_accounts = false, no metadata
         * key grants access: the empty set deprovisions them all. */
        if (!oslogin && ctx->config.metadata_accounts) {
                r = ssh_keys_effective(mo->doc, now_realtime_usec(), &keys);
                if (r < 0)
                        return log_error_errno(r, "Cannot evaluate the metadata ssh-keys: %m");
                log_new_rejections(mo, &keys);
        }
        return keys_reconcile(&o, &keys, ret);
}

/* One pass over the last document; signals wait until it is done (they
 * are handled by the loop, between events). */
static int apply(struct mode *mo)
{
        bool oslogin = metadata_bool(mo->doc, "enable-oslogin", false);
        /* They matter only with OS Login; a change of any re-applies the drop-in. */
        const struct host_policy policy = {
                .two_factor = oslogin && metadata_bool(mo->doc, "enable-oslogin-2fa", false),
                .certificates = oslogin && metadata_bool(mo->doc, "enable-oslogin-certificates", false),
                .security_keys = oslogin && metadata_bool(mo->doc, "enable-oslogin-sk", false),
        };
        enum host_mode want = oslogin ? HOST_MODE_OSLOGIN : HOST_MODE_METADATA_KEYS;
        struct reconcile_result res = {};
        uint64_t start = now_monotonic_usec();
        int r, q = 0;

        /* Order matters for sshd: metadata users go before OS Login is
         * switched on, and come back only after it is switched off. */
        if (want == HOST_MODE_METADATA_KEYS) {
                q = switch_mode(mo, want, &policy);
                if (mo->callbacks.mode_applied)
                        mo->callbacks.mode_applied(want, mo->userdata);
        }
        r = reconcile_keys(mo, oslogin, &res);
        if (r >= 0 && want == HOST_MODE_OSLOGIN) {
                q = switch_mode(mo, want, &policy);
                if (mo->callbacks.mode_applied)
                        mo->callbacks.mode_applied(want, mo->userdata);
        }
        mo->last_error = r < 0 ? r : q;
        mo->last_realtime_usec = now_realtime_usec();
        arm_timer(mo->retry_timer,
                r < 0 || q < 0 || res.failed > 0 ? now_monotonic_usec() + MODE_RETRY_USEC : 0);
        if (r < 0)
                return log_error_errno(r, "Reconcile failed, nothing applied: %m");
        mo->reconciles++;
        mo->last = res;
        arm_timer(mo->expiry_timer, res.next_expiry_usec);
        log_full(res.created || res.removed || res.keys_written || res.failed ? LOG_INFO : LOG_DEBUG,
                "Reconciled (%s mode) in %llu ms: %u created, %u removed, %u key files written, %u failed, "
                "%u refused.",
                oslogin ? "OS Login" : "metadata keys",
                (unsigned long long)((now_monotonic_usec() - start) / 1000), res.created, res.removed,
                res.keys_written, res.failed, res.refused);
        sd_notifyf(0, "STATUS=%s mode; last reconcile: %u created, %u removed, %u failed",
                oslogin ? "OS Login" : "metadata keys", res.created, res.removed, res.failed);
        return q;
}

static void apply_and_report(struct mode *mo)
{
        int r = apply(mo);

        char status[256] = "first reconcile done";

        if (!mo->callbacks.pass_done)
                return;
        /* Done whatever came of it: sshd must not wait for a host
         * configuration that cannot be applied. */
        if (mo->host_failed_step[0])
                snprintf(status, sizeof(status), "host configuration cannot be applied (%s)%s",
                        mo->host_failed_step, mo->reconciles == 0 ? "; first reconcile failed too" : "");
        else if (r < 0)
                snprintf(status, sizeof(status), "first reconcile failed (%s); retrying",
                        strerror(-mo->last_error));
        mo->callbacks.pass_done(r, mo->applied, status, mo->userdata);
}

void mode_handle_document(struct mode *mo, const char *json, size_t size)
{
        struct metadata_document *doc;
        int r = metadata_document_parse(json, size, &doc);

        if (r < 0) {
                log_error("The metadata document does not parse; accounts left unchanged.");
                mo->last_error = r;
                if (mo->callbacks.pass_done)
                        mo->callbacks.pass_done(r, mo->applied, NULL, mo->userdata);
                return;
        }
        metadata_document_free(mo->doc);
        mo->doc = doc;
        apply_and_report(mo);
        /* The guest agent rewrites its blocks on the same metadata change,
         * maybe after this pass: look again a little later. */
        arm_timer(mo->takeover_timer, now_monotonic_usec() + MODE_TAKEOVER_RECHECK_USEC);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct mode *mo = userdata;
        (void)usec;
        if (s == mo->takeover_timer && !takeover_pending(mo->ctx->root, mo->ctx->config.manage_host_config))
                return 0;
        log_debug("%s timer: reconciling the last document again.", s == mo->takeover_timer
                                                                            ? "Guest environment"
                                                                    : s == mo->expiry_timer ? "Key expiry"
                                                                                            : "Retry");
        if (mo->doc)
                apply_and_report(mo);
        return 0;
}

int mode_new(const struct daemon_context *ctx, const struct mode_callbacks *callbacks, void *userdata,
        struct mode **ret)
{
        struct mode *mo = calloc(1, sizeof(*mo));
        int r;

        if (!mo)
                return -ENOMEM;
        mo->ctx = ctx;
        if (callbacks)
                mo->callbacks = *callbacks;
        mo->userdata = userdata;
        mo->applied = host_mode_load(ctx->root);
        if (mo->applied == HOST_MODE_UNKNOWN) {
                /* No record (first start, or an older version): take what the host has. */
                struct sysconf_options so;
                struct sysconf_status st;
                sysconf_options_default(&so);
                so.root = ctx->root;
                mo->applied = sysconf_get_status(&so, &st) == 0 && (st.nsswitch || st.sshd)
                                      ? HOST_MODE_OSLOGIN
                                      : HOST_MODE_METADATA_KEYS;
        }
        r = sd_event_add_time(
                ctx->event, &mo->retry_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000000, on_timer, mo);
        if (r >= 0)
                r = sd_event_add_time(
                        ctx->event, &mo->expiry_timer, CLOCK_REALTIME, UINT64_MAX, 1000000, on_timer, mo);
        if (r >= 0)
                r = sd_event_add_time(
                        ctx->event, &mo->takeover_timer, CLOCK_MONOTONIC, UINT64_MAX, 100000, on_timer, mo);
        if (r < 0) {
                mode_free(mo);
                return r;
        }
        sd_event_source_set_enabled(mo->retry_timer, SD_EVENT_OFF);
        sd_event_source_set_enabled(mo->expiry_timer, SD_EVENT_OFF);
        sd_event_source_set_enabled(mo->takeover_timer, SD_EVENT_OFF);
        *ret = mo;
        return 0;
}

void mode_free(struct mode *mo)
{
        if (!mo)
                return;
        sd_event_source_disable_unref(mo->retry_timer);
        sd_event_source_disable_unref(mo->expiry_timer);
        sd_event_source_disable_unref(mo->takeover_timer);
        metadata_document_free(mo->doc);
        strv_free(mo->logged_rejections);
        free(mo);
}

enum host_mode mode_current(const struct mode *mo)
{
        return mo->applied;
}

bool mode_has_document(const struct mode *mo)
{
        return mo->doc;
}

int mode_metadata_flag(const struct mode *mo, const char *key)
{
        return mo->doc ? metadata_bool(mo->doc, key, false) : -1;
}

void mode_status(const struct mode *mo, FILE *f)
{
        fprintf(f, "mode: %s\n", host_mode_to_string(mo->applied));
        fprintf(f, "reconciles: %u\n", mo->reconciles);
        if (mo->reconciles)
                fprintf(f,
                        "last-reconcile: %u created, %u removed, %u key files written, %u failed, %u "
                        "refused\n",
                        mo->last.created, mo->last.removed, mo->last.keys_written, mo->last.failed,
                        mo->last.refused);
        if (mo->last_realtime_usec)
                fprintf(f, "last-reconcile-age: %llus\n",
                        (unsigned long long)((now_realtime_usec() - mo->last_realtime_usec) / 1000000u));
        if (mo->last_error < 0)
                fprintf(f, "last-reconcile-error: %s\n", strerror(-mo->last_error));
        fprintf(f, "host-config: %s\n",
                !mo->ctx->config.manage_host_config ? "not managed (manage_host_config = false)"
                : mo->host_failed_step[0]           ? "cannot be applied"
                                                    : "managed");
        if (mo->host_failed_step[0])
                fprintf(f, "host-config-error: %s\n", mo->host_failed_step);
        fprintf(f, "metadata-accounts: %s\n", mo->ctx->config.metadata_accounts ? "yes" : "no");
}
