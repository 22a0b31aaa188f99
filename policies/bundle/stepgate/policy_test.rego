package stepgate_test

# Tests of the default policy's behaviour: one test per situation the design
# names, each asserting the whole decision object so that a change in reasons
# or requirements is noticed. They run on the fixed table fixture
# (helpers_test.rego), not on data.json: what the shipped table decides is
# table_test.rego's job, derived from the table itself.

test_billing_view_fresh_mfa_allows if {
	expect("decision", fixed("billing.view", mfa_authn(120), {}), {
		"decision": "allow",
		"reasons": ["billing.view needs amr mfa within 900s; requirements met"],
	})
}

test_billing_view_mfa_at_limit_allows if {
	expect("decision", fixed("billing.view", mfa_authn(900), {}).decision, "allow")
}

test_billing_view_stale_mfa_steps_up if {
	expect("decision", fixed("billing.view", mfa_authn(960), {}), {
		"decision": "step_up",
		"reasons": ["billing.view needs amr mfa within 900s; last authentication at 2025-11-21T23:50:40Z, more than 900s ago"],
		"requirements": {"amr_any": ["mfa"], "max_age": 900},
	})
}

test_billing_view_pwd_only_steps_up if {
	expect("decision", fixed("billing.view", pwd_authn(60), {}), {
		"decision": "step_up",
		"reasons": ["billing.view needs amr mfa within 900s; authentication did not use mfa"],
		"requirements": {"amr_any": ["mfa"], "max_age": 900},
	})
}

test_billing_view_stale_pwd_names_both_defects if {
	expect("reasons", fixed("billing.view", pwd_authn(3600), {}).reasons, [
		"billing.view needs amr mfa within 900s; authentication did not use mfa",
		"billing.view needs amr mfa within 900s; last authentication at 2025-11-21T23:06:40Z, more than 900s ago",
	])
}

test_billing_view_missing_auth_time_steps_up if {
	expect("decision", fixed("billing.view", {"methods": ["pwd", "mfa"], "mfa": true}, {}), {
		"decision": "step_up",
		"reasons": ["billing.view needs amr mfa within 900s; no auth_time in token"],
		"requirements": {"amr_any": ["mfa"], "max_age": 900},
	})
}

test_auth_time_in_future_denies if {
	expect("decision", fixed("billing.view", mfa_authn(-120), {}), {
		"decision": "deny",
		"reasons": ["auth_time is 120s in the future, beyond the allowed clock skew of 60s"],
	})
}

test_auth_time_in_future_denies_even_without_freshness_requirement if {
	expect("decision", fixed("profile.update", pwd_authn(-3600), {}).decision, "deny")
}

test_auth_time_within_clock_skew_allows if {
	expect("decision", fixed("billing.view", mfa_authn(-60), {}).decision, "allow")
}

test_keycloak_acr_mfa_without_amr_allows if {
	authn := {"methods": [], "mfa": true, "acr": "gold", "auth_time": now - 30, "age": 30}
	expect("decision", fixed("billing.view", authn, {}).decision, "allow")
}

test_null_methods_from_go_are_tolerated if {
	authn := {"methods": null, "mfa": true, "acr": "gold", "auth_time": now - 30, "age": 30}
	expect("decision", fixed("billing.view", authn, {}).decision, "allow")
}

test_keycloak_expired_level_steps_up if {
	authn := {"methods": [], "mfa": false, "acr": "0", "auth_time": now - 30, "age": 30}
	expect("decision", fixed("billing.view", authn, {}).decision, "step_up")
}

test_age_computed_from_auth_time_when_absent if {
	authn := {"methods": ["mfa"], "mfa": true, "auth_time": now - 1000}
	expect("reasons", fixed("billing.view", authn, {}).reasons, ["billing.view needs amr mfa within 900s; last authentication at 2025-11-21T23:50:00Z, more than 900s ago"])
}

# The stale-authentication reason names auth_time, not the age, so the same
# token gets the same answer however much later it is presented.
test_stale_reason_does_not_change_with_time if {
	reasons := {r |
		some later in [0, 1, 100, 86400]
		authn := {"methods": ["mfa"], "mfa": true, "auth_time": now - 1000, "age": 1000 + later}
		d := data.stepgate.decision with input as object.union(request("billing.view", authn, {}), {"now": now + later})
			with data.stepgate.actions as fixture
		some r in d.reasons
	}
	expect("reasons", reasons, {"billing.view needs amr mfa within 900s; last authentication at 2025-11-21T23:50:00Z, more than 900s ago"})
}

test_fractional_auth_time_is_floored if {
	authn := {"methods": ["mfa"], "mfa": true, "auth_time": now - 1000.7, "age": 1000.7}
	expect("reasons", fixed("billing.view", authn, {}).reasons, ["billing.view needs amr mfa within 900s; last authentication at 2025-11-21T23:49:59Z, more than 900s ago"])
}

test_stale_age_without_auth_time_steps_up if {
	authn := {"methods": ["mfa"], "mfa": true, "age": 1000}
	expect("decision", fixed("billing.view", authn, {}), {
		"decision": "step_up",
		"reasons": ["billing.view needs amr mfa within 900s; last authentication more than 900s ago"],
		"requirements": {"amr_any": ["mfa"], "max_age": 900},
	})
}

test_call_centre_payment_goes_ciba if {
	expect("decision", fixed("billing.pay", mfa_authn(10), {"amount": 500, "channel": "call_center"}), {
		"decision": "ciba",
		"reasons": ["billing.pay over channel call_center needs approval on the user's own device"],
		"requirements": {"amr_any": ["mfa"], "max_age": 300},
	})
}

test_pos_payment_goes_ciba_even_with_stale_pwd if {
	expect("decision", fixed("billing.pay", pwd_authn(7200), {"amount": 10, "channel": "pos"}).decision, "ciba")
}

test_high_amount_web_payment_goes_ciba if {
	expect("decision", fixed("billing.pay", mfa_authn(10), {"amount": 120000, "currency": "JPY", "channel": "web"}), {
		"decision": "ciba",
		"reasons": ["billing.pay of amount 120000 (at least 100000) needs approval on the user's own device"],
		"requirements": {"amr_any": ["mfa"], "max_age": 300},
	})
}

test_amount_at_threshold_goes_ciba if {
	expect("decision", fixed("billing.pay", mfa_authn(10), {"amount": 100000, "channel": "web"}).decision, "ciba")
}

test_both_ciba_triggers_are_reported if {
	count(fixed("billing.pay", mfa_authn(10), {"amount": 150000, "channel": "pos"}).reasons) == 2
}

test_small_fresh_web_payment_allows if {
	expect("decision", fixed("billing.pay", mfa_authn(60), {"amount": 99999, "currency": "JPY", "channel": "web"}), {
		"decision": "allow",
		"reasons": ["billing.pay needs amr mfa within 300s; requirements met"],
	})
}

test_small_stale_web_payment_steps_up if {
	expect("decision", fixed("billing.pay", mfa_authn(400), {"amount": 1000, "channel": "web"}), {
		"decision": "step_up",
		"reasons": ["billing.pay needs amr mfa within 300s; last authentication at 2025-11-22T00:00:00Z, more than 300s ago"],
		"requirements": {"amr_any": ["mfa"], "max_age": 300},
	})
}

test_non_numeric_amount_denies if {
	expect("decision", fixed("billing.pay", mfa_authn(10), {"amount": "120000", "channel": "web"}), {
		"decision": "deny",
		"reasons": ["invalid request: context.amount must be a number"],
	})
}

test_profile_update_fresh_pwd_allows if {
	expect("decision", fixed("profile.update", pwd_authn(200), {}), {
		"decision": "allow",
		"reasons": ["profile.update needs a fresh login within 300s; requirements met"],
	})
}

test_profile_update_stale_pwd_steps_up if {
	expect("decision", fixed("profile.update", pwd_authn(400), {}), {
		"decision": "step_up",
		"reasons": ["profile.update needs a fresh login within 300s; last authentication at 2025-11-22T00:00:00Z, more than 300s ago"],
		"requirements": {"max_age": 300, "fresh_login": true},
	})
}

test_profile_update_missing_auth_time_steps_up if {
	expect("decision", fixed("profile.update", {"methods": ["pwd"], "mfa": false}, {}).decision, "step_up")
}

test_unknown_action_denies if {
	expect("decision", fixed("admin.delete_everything", mfa_authn(1), {}), {
		"decision": "deny",
		"reasons": [`unknown action "admin.delete_everything"`],
	})
}
