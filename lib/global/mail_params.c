/*
 * mail_params.c - the table of every parameter Posthorn reads.
 *
 * One line per parameter: name, type, raw default, bounds, default time
 * unit.  Names and defaults are Postfix's wherever Postfix has the
 * parameter; Posthorn's own parameters are marked "(Posthorn)".
 * A NULL default means "computed at run time" (see mail_conf.c):
 * myhostname, mydomain.  postconf -d prints this table.
 * Keep it sorted by name within each group.
 */
#include "sys_defs.h"
#include "mail_conf.h"

#define S(n, d)		{ n, PARAM_STR, d, 0, 0, 0 }
#define I(n, d, lo, hi)	{ n, PARAM_INT, d, lo, hi, 0 }
#define L(n, d, lo, hi)	{ n, PARAM_LONG, d, lo, hi, 0 }
#define B(n, d)		{ n, PARAM_BOOL, d, 0, 0, 0 }
#define T(n, d, u, lo)	{ n, PARAM_TIME, d, lo, 0, u }

#ifndef DEF_DAEMON_DIR
#define DEF_DAEMON_DIR "/usr/local/libexec/posthorn"
#endif
#ifndef DEF_COMMAND_DIR
#define DEF_COMMAND_DIR "/usr/local/sbin"
#endif

const MAIL_PARAM mail_params[] = {
    /* Identity and paths */
    S("alias_database", "hash:/etc/aliases"),
    S("alias_maps", "hash:/etc/aliases"),
    S("append_dot_mydomain", "no"),	/* Postfix: yes below compatibility_level 1 */
    S("command_directory", DEF_COMMAND_DIR),
    S("compatibility_level", "3.6"),	/* Posthorn's defaults are those of level 3.6 */
    S("config_directory", DEF_CONFIG_DIR),
    S("daemon_directory", DEF_DAEMON_DIR),
    S("data_directory", "/var/lib/posthorn"),
    S("inet_interfaces", "all"),
    S("inet_protocols", "all"),
    S("mail_name", "Posthorn"),
    S("mail_owner", "posthorn"),
    S("mail_version", "0.1"),
    S("mydestination", "$myhostname, localhost.$mydomain, localhost"),
    S("mydomain", NULL),
    S("myhostname", NULL),
    S("mynetworks", "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128"),
    S("mynetworks_style", "host"),
    S("myorigin", "$myhostname"),
    S("passwd_file", ""),		/* (Posthorn) passwd(5) file instead of getpwnam */
    S("queue_directory", "/var/spool/posthorn"),
    S("relay_domains", ""),
    S("setgid_group", "postdrop"),

    /* Installation facts Posthorn reads nowhere: known so that a Postfix main.cf needs no change */
    S("debugger_command", ""),
    S("html_directory", "no"),
    S("mailq_path", "/usr/bin/mailq"),
    S("manpage_directory", "/usr/local/man"),
    S("newaliases_path", "/usr/bin/newaliases"),
    S("readme_directory", "no"),
    S("sample_directory", DEF_CONFIG_DIR),
    S("sendmail_path", DEF_COMMAND_DIR "/sendmail"),

    /* Logging */
    S("maillog_file", ""),
    S("maillog_file_rotate_suffix", "%Y%m%d-%H%M%S"),
    S("maillog_file_compressor", "gzip"),
    S("syslog_facility", "mail"),
    S("syslog_name", "posthorn"),

    /* master and the server skeleton */
    I("default_process_limit", "100", 1, 0),
    T("anvil_rate_time_unit", "60s", 's', 1),
    T("anvil_status_update_time", "600s", 's', 1),
    S("proxy_read_maps", "$local_recipient_maps $mydestination $virtual_alias_maps "
      "$virtual_alias_domains $virtual_mailbox_maps $virtual_mailbox_domains "
      "$relay_domains $canonical_maps $sender_canonical_maps "
      "$recipient_canonical_maps $relocated_maps $transport_maps $mynetworks "
      "$smtpd_sender_login_maps $alias_maps $smtpd_client_restrictions "
      "$smtpd_helo_restrictions $smtpd_sender_restrictions "
      "$smtpd_relay_restrictions $smtpd_recipient_restrictions "
      "$smtp_sasl_password_maps $smtpd_sasl_password_maps $virtual_gid_maps $virtual_uid_maps"),
    I("max_use", "100", 1, 0),
    T("max_idle", "100s", 's', 1),
    T("ipc_timeout", "3600s", 's', 1),
    T("service_throttle_time", "60s", 's', 1),
    I("process_client_limit", "1000", 1, 0),	/* (Posthorn) event server hard limit */
    I("process_client_soft_limit", "100", 1, 0),	/* (Posthorn) event server: ask for help */
    I("default_destination_concurrency_limit", "20", 1, 0),
    I("initial_destination_concurrency", "5", 1, 0),
    I("default_destination_concurrency_failed_cohort_limit", "1", 0, 0),
    I("smtp_destination_concurrency_failed_cohort_limit",
      "$default_destination_concurrency_failed_cohort_limit", 0, 0),
    I("lmtp_destination_concurrency_failed_cohort_limit",
      "$default_destination_concurrency_failed_cohort_limit", 0, 0),
    I("local_destination_concurrency_limit", "2", 1, 0),
    I("local_destination_recipient_limit", "1", 1, 0),
    /* Postfix's virtual(8) limit; Posthorn's local delivers virtual mailboxes */
    I("virtual_destination_recipient_limit", "$default_destination_recipient_limit", 1, 0),

    /* Queue */
    S("hash_queue_names", "deferred, defer"),
    I("hash_queue_depth", "1", 1, 4),
    I("qmgr_message_active_limit", "20000", 1, 0),
    I("qmgr_message_recipient_limit", "20000", 1, 0),
    I("qmgr_message_recipient_minimum", "10", 1, 0),
    T("queue_run_delay", "300s", 's', 1),
    T("minimal_backoff_time", "300s", 's', 1),
    T("maximal_backoff_time", "4000s", 's', 1),
    T("maximal_queue_lifetime", "5d", 'd', 0),
    T("bounce_queue_lifetime", "5d", 'd', 0),
    T("delay_warning_time", "0h", 'h', 0),
    I("queue_file_attribute_count_limit", "100", 1, 0),

    /* smtpd */
    S("smtpd_banner", "$myhostname ESMTP $mail_name"),
    I("smtpd_client_auth_rate_limit", "0", 0, 0),
    I("smtpd_client_connection_count_limit", "50", 0, 0),
    S("smtpd_client_connection_limit_exceptions", ""),	/* the old name */
    I("smtpd_client_connection_rate_limit", "0", 0, 0),
    S("smtpd_client_event_limit_exceptions",
      "${smtpd_client_connection_limit_exceptions:$mynetworks}"),
    I("smtpd_client_message_rate_limit", "0", 0, 0),
    I("smtpd_client_recipient_rate_limit", "0", 0, 0),
    B("smtpd_delay_reject", "yes"),
    B("disable_vrfy_command", "no"),
    S("smtpd_forbid_bare_newline", "normalize"),
    S("smtpd_forbid_bare_newline_exclusions", ""),	/* Postfix: $mynetworks */
    T("smtpd_error_sleep_time", "1s", 's', 0),
    I("smtpd_hard_error_limit", "20", 1, 0),
    I("smtpd_junk_command_limit", "100", 1, 0),
    B("smtpd_peername_lookup", "yes"),
    /* check_policy_service (smtpd/smtpd_policy.c, lib/global/policy_clnt.c) */
    T("smtpd_policy_service_timeout", "100s", 's', 1),
    T("smtpd_policy_service_max_idle", "300s", 's', 1),
    T("smtpd_policy_service_max_ttl", "1000s", 's', 1),
    I("smtpd_policy_service_try_limit", "2", 1, 0),
    I("smtpd_policy_service_request_limit", "0", 0, 0),
    S("smtpd_policy_service_default_action", "451 4.3.5 Server configuration problem"),
    S("smtpd_policy_service_policy_context", ""),
    /* milters (smtpd/smtpd_milter.c, lib/global/milter_clnt.c) */
    S("smtpd_milters", ""), S("non_smtpd_milters", ""),
    S("milter_protocol", "6"), S("milter_default_action", "tempfail"),
    T("milter_connect_timeout", "30s", 's', 1),
    T("milter_command_timeout", "30s", 's', 1),
    T("milter_content_timeout", "300s", 's', 1),
    S("milter_connect_macros", "j {daemon_name} {daemon_addr} v _"),
    S("milter_helo_macros", "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"),
    S("milter_mail_macros", "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}"),
    S("milter_rcpt_macros", "i {rcpt_addr} {rcpt_host} {rcpt_mailer}"),
    S("milter_data_macros", "i"), S("milter_end_of_header_macros", "i"),
    S("milter_end_of_data_macros", "i"), S("milter_unknown_command_macros", ""),
    S("milter_macro_daemon_name", "$myhostname"),
    S("milter_macro_v", "$mail_name $mail_version"),
    /* content filters (smtpd writes the filter into the queue file, qmgr routes) */
    S("content_filter", ""), S("receive_override_options", ""),
    I("hopcount_limit", "50", 1, 0),
    I("smtpd_soft_error_limit", "10", 1, 0),
    B("smtpd_helo_required", "no"),
    I("smtpd_history_flush_threshold", "100", 1, 0),
    I("smtpd_recipient_limit", "1000", 1, 0),
    I("smtpd_recipient_overshoot_limit", "1000", 1, 0),
    S("smtpd_sender_login_maps", ""),
    S("smtpd_relay_restrictions", "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"),
    S("smtpd_recipient_restrictions", ""),
    T("smtpd_timeout", "300s", 's', 1),
    L("message_size_limit", "10240000", 0, 0),
    I("line_length_limit", "2048", 80, 0),
    I("smtp_line_length_limit", "999", 0, 0),
    S("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps"),
    I("unknown_local_recipient_reject_code", "550", 400, 599),
    S("smtpd_authorized_xforward_hosts", ""),
    B("always_add_missing_headers", "no"),
    B("strict_rfc821_envelopes", "no"),
    S("recipient_delimiter", ""),
    B("smtputf8_enable", "yes"),
    S("smtpd_client_restrictions", ""),

    /* local and virtual delivery */
    S("home_mailbox", ""),
    S("mail_spool_directory", "/var/mail"),
    S("mailbox_command", ""), S("mailbox_command_maps", ""),
    S("mailbox_transport", ""),
    S("fallback_transport", ""),
    L("mailbox_size_limit", "51200000", 0, 0),
    S("virtual_mailbox_base", ""),
    S("virtual_mailbox_domains", "$virtual_mailbox_maps"),
    S("virtual_mailbox_maps", ""),
    S("virtual_uid_maps", ""),
    S("virtual_gid_maps", ""),
    I("virtual_minimum_uid", "100", 0, 0),
    S("canonical_classes", "envelope_sender, envelope_recipient, header_sender, header_recipient"),
    S("canonical_maps", ""),
    S("local_header_rewrite_clients", "permit_inet_interfaces"),
    S("masquerade_classes", "envelope_sender, header_sender, header_recipient"),
    S("masquerade_domains", ""),
    S("masquerade_exceptions", ""),
    S("recipient_canonical_classes", "envelope_recipient, header_recipient"),
    S("recipient_canonical_maps", ""),
    S("relocated_maps", ""),
    S("sender_canonical_classes", "envelope_sender, header_sender"),
    S("sender_canonical_maps", ""),
    S("virtual_alias_maps", "$virtual_maps"),
    S("virtual_maps", ""),
    S("allow_mail_to_commands", "alias, forward"),
    S("allow_mail_to_files", "alias, forward"),
    S("local_command_shell", ""),
    B("strict_mailbox_ownership", "yes"),
    B("biff", "yes"),			/* local never notifies comsat */

    S("default_database_type", "hash"),
    /* routing: virtual aliases (smtpd) and transports (qmgr), lib/tables/resolve.c */
    S("virtual_alias_domains", "$virtual_alias_maps"),
    I("virtual_alias_recursion_limit", "1000", 1, 0),
    I("virtual_alias_expansion_limit", "1000", 1, 0),
    I("unknown_virtual_alias_reject_code", "550", 400, 599),
    I("unknown_virtual_mailbox_reject_code", "550", 400, 599),
    S("propagate_unmatched_extensions", "canonical, virtual"),
    S("transport_maps", ""),
    S("parent_domain_matches_subdomains", "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps"),
    S("default_transport", "smtp"),
    S("local_transport", "local:$myhostname"),
    S("virtual_transport", "local"),	/* Postfix: virtual; Posthorn's local does virtual mailboxes */
    S("relay_transport", "relay"),
    S("default_privs", "nobody"),
    T("command_time_limit", "1000s", 's', 1),
    S("forward_path", "$home/.forward${recipient_delimiter}${extension}, $home/.forward"),
    /* header/body checks (smtpd_hbc.c, lib/tables/hbc.c) */
    S("header_checks", ""), S("body_checks", ""),
    S("mime_header_checks", "$header_checks"), S("nested_header_checks", "$header_checks"),
    I("header_size_limit", "102400", 1, 0), I("body_checks_size_limit", "51200", 0, 0),
    S("message_drop_headers", "bcc, content-length, resent-bcc, return-path"),
    B("smtpd_sasl_authenticated_header", "no"),
    /* SASL AUTH (smtpd/smtpd_sasl.c, lib/sasl/xsasl.c) */
    B("smtpd_sasl_auth_enable", "no"), S("smtpd_sasl_type", "cyrus"),
    S("smtpd_sasl_path", "smtpd"), S("cyrus_sasl_config_path", ""),
    S("smtpd_sasl_password_maps", ""), S("smtpd_sasl_default_pass_scheme", "CRYPT"),
    S("smtpd_sasl_service", "smtp"), S("smtpd_sasl_local_domain", ""),
    S("smtpd_sasl_security_options", "noanonymous"),
    S("smtpd_sasl_tls_security_options", "$smtpd_sasl_security_options"),
    B("broken_sasl_auth_clients", "no"), S("smtpd_sasl_exceptions_networks", ""),
    I("smtpd_sasl_response_limit", "12288", 12288, 0), B("smtpd_tls_auth_only", "no"),
    /* STARTTLS and smtps (smtpd/smtpd_tls.c, lib/tls/tls.c) */
    S("smtpd_tls_security_level", ""), B("smtpd_use_tls", "no"), B("smtpd_enforce_tls", "no"),
    S("smtpd_tls_cert_file", ""), S("smtpd_tls_key_file", "$smtpd_tls_cert_file"),
    S("smtpd_tls_chain_files", ""), B("smtpd_tls_wrappermode", "no"),
    S("smtpd_tls_protocols", ">=TLSv1"), S("smtpd_tls_mandatory_protocols", ">=TLSv1"),
    S("smtpd_tls_ciphers", "medium"), S("smtpd_tls_mandatory_ciphers", "medium"),
    S("smtpd_tls_exclude_ciphers", ""), S("smtpd_tls_mandatory_exclude_ciphers", ""),
    I("smtpd_tls_loglevel", "1", 0, 4),	/* Postfix: 0 */
    S("smtpd_tls_CAfile", ""), S("smtpd_tls_CApath", ""),	/* (no client certificates asked for) */
    S("smtpd_tls_session_cache_database", ""),	/* (no session cache) */
    T("smtpd_tls_session_cache_timeout", "3600s", 's', 0),
    B("smtpd_tls_received_header", "yes"),	/* Postfix: no */
    /* pop3d (Posthorn; pop3d/, lib/login/): the certificate is SMTP's */
    S("pop3d_tls_security_level", "may"), B("pop3d_tls_wrappermode", "no"),
    S("pop3d_tls_cert_file", "$smtpd_tls_cert_file"),
    S("pop3d_tls_key_file", "$smtpd_tls_key_file"),
    S("pop3d_tls_chain_files", "$smtpd_tls_chain_files"),
    S("pop3d_tls_protocols", "$smtpd_tls_protocols"),
    S("pop3d_tls_ciphers", "$smtpd_tls_ciphers"),
    S("pop3d_tls_exclude_ciphers", "$smtpd_tls_exclude_ciphers"),
    I("pop3d_tls_loglevel", "1", 0, 4), B("pop3d_tls_auth_only", "yes"),
    S("pop3d_auth_service", "pop3auth"), S("pop3d_sasl_service", "pop"),
    T("pop3d_auth_timeout", "60s", 's', 1), T("pop3d_auth_failure_delay", "1s", 's', 0),
    I("pop3d_auth_failure_limit", "5", 0, 0), T("pop3d_login_timeout", "180s", 's', 1),
    T("pop3d_timeout", "600s", 's', 1), B("pop3d_apop_enable", "no"),
    /* imapd (Posthorn; imapd/, lib/login/): as pop3d */
    S("imapd_tls_security_level", "may"), B("imapd_tls_wrappermode", "no"),
    S("imapd_tls_cert_file", "$smtpd_tls_cert_file"),
    S("imapd_tls_key_file", "$smtpd_tls_key_file"),
    S("imapd_tls_chain_files", "$smtpd_tls_chain_files"),
    S("imapd_tls_protocols", "$smtpd_tls_protocols"),
    S("imapd_tls_ciphers", "$smtpd_tls_ciphers"),
    S("imapd_tls_exclude_ciphers", "$smtpd_tls_exclude_ciphers"),
    I("imapd_tls_loglevel", "1", 0, 4), B("imapd_tls_auth_only", "yes"),
    S("imapd_auth_service", "imapauth"), S("imapd_sasl_service", "imap"),
    T("imapd_auth_timeout", "60s", 's', 1), T("imapd_auth_failure_delay", "1s", 's', 0),
    I("imapd_auth_failure_limit", "5", 0, 0), T("imapd_login_timeout", "180s", 's', 1),
    T("imapd_timeout", "1800s", 's', 1),
    /* restriction lists and access tables (smtpd/smtpd_restrict.c, smtpd_access.c) */
    S("smtpd_helo_restrictions", ""), S("smtpd_sender_restrictions", ""),
    S("smtpd_data_restrictions", ""), S("smtpd_null_access_lookup_key", "<>"),
    I("access_map_reject_code", "554", 400, 599), I("access_map_defer_code", "450", 400, 599),
    I("defer_code", "450", 400, 599), I("reject_code", "554", 400, 599),
    I("relay_domains_reject_code", "554", 400, 599), I("maps_rbl_reject_code", "554", 400, 599),
    I("invalid_hostname_reject_code", "501", 400, 599), I("non_fqdn_reject_code", "504", 400, 599),
    I("unknown_address_reject_code", "450", 400, 599),
    I("unknown_client_reject_code", "450", 400, 599),
    I("unknown_hostname_reject_code", "450", 400, 599),
    B("allow_percent_hack", "yes"), B("swap_bangpath", "yes"), B("allow_untrusted_routing", "no"),
    /* qmgr routing, bounces (qmgr/, lib/global/bounce.c) */
    S("2bounce_notice_recipient", "postmaster"),
    S("bounce_notice_recipient", "postmaster"),
    L("bounce_size_limit", "50000", 1, 0),
    I("default_destination_recipient_limit", "50", 1, 0),
    S("delay_notice_recipient", "postmaster"),
    S("notify_classes", "resource, software"),
    S("relayhost", ""),
    I("smtp_destination_recipient_limit", "$default_destination_recipient_limit", 1, 0),
    /* SMTP client (smtp/) */
    T("smtp_connect_timeout", "30s", 's', 0),
    S("smtp_connection_cache_destinations", ""),
    B("smtp_connection_cache_on_demand", "yes"),
    T("smtp_connection_cache_time_limit", "2s", 's', 1),
    I("smtp_connection_reuse_count_limit", "0", 0, 0),
    T("smtp_connection_reuse_time_limit", "300s", 's', 1),
    T("smtp_data_done_timeout", "600s", 's', 1),
    T("smtp_data_init_timeout", "120s", 's', 1),
    T("smtp_data_xfer_timeout", "180s", 's', 1),
    S("smtp_helo_name", "$myhostname"),
    T("smtp_helo_timeout", "300s", 's', 1),
    T("smtp_mail_timeout", "300s", 's', 1),
    T("smtp_quit_timeout", "300s", 's', 1),
    T("smtp_rcpt_timeout", "300s", 's', 1),
    B("smtp_sasl_auth_enable", "no"),
    S("smtp_sasl_mechanism_filter", ""),
    S("smtp_sasl_password_maps", ""),
    S("smtp_sasl_security_options", "noplaintext, noanonymous"),
    S("smtp_sasl_tls_security_options", "$smtp_sasl_security_options"),
    B("smtp_skip_5xx_greeting", "yes"),
    T("smtp_starttls_timeout", "300s", 's', 1),
    S("smtp_tls_CAfile", ""),
    S("smtp_tls_CApath", ""),
    S("smtp_tls_cert_file", ""),
    S("smtp_tls_ciphers", "medium"),
    S("smtp_tls_exclude_ciphers", ""),
    S("smtp_tls_key_file", "$smtp_tls_cert_file"),
    I("smtp_tls_loglevel", "0", 0, 4),
    S("smtp_tls_mandatory_ciphers", "medium"),
    S("smtp_tls_mandatory_protocols", ">=TLSv1"),
    S("smtp_tls_protocols", ">=TLSv1"),
    S("smtp_tls_security_level", ""),
    S("smtp_tls_session_cache_database", ""),
    T("smtp_tls_session_cache_timeout", "3600s", 's', 0),
    /* LMTP client (smtp/ in LMTP mode) */
    B("lmtp_assume_final", "no"),
    T("lmtp_connect_timeout", "0s", 's', 0),
    S("lmtp_connection_cache_destinations", ""),
    B("lmtp_connection_cache_on_demand", "yes"),
    T("lmtp_connection_cache_time_limit", "2s", 's', 1),
    I("lmtp_connection_reuse_count_limit", "0", 0, 0),
    T("lmtp_connection_reuse_time_limit", "300s", 's', 1),
    T("lmtp_data_done_timeout", "600s", 's', 1),
    T("lmtp_data_init_timeout", "120s", 's', 1),
    T("lmtp_data_xfer_timeout", "180s", 's', 1),
    I("lmtp_destination_recipient_limit", "$default_destination_recipient_limit", 1, 0),
    S("lmtp_lhlo_name", "$myhostname"),
    T("lmtp_lhlo_timeout", "300s", 's', 1),
    T("lmtp_mail_timeout", "300s", 's', 1),
    T("lmtp_quit_timeout", "300s", 's', 1),
    T("lmtp_rcpt_timeout", "300s", 's', 1),
    B("lmtp_skip_5xx_greeting", "yes"),
    S("lmtp_tcp_port", "24"),
    /* END */
    { 0, 0, 0, 0, 0, 0 },
};
