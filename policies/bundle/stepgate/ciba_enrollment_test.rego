package stepgate_test

# CIBA only where the user can approve: input.subject.authn.ciba_capable is
# true, false or "unknown" when stepgate looked the user's devices up, and
# absent when their issuer has no enrollment lookup (the CIBA tests in
# policy_test.rego cover that case). Without a device, a fresh login here
# (within settings.ciba_fallback_max_age, default 60s) stands in for the
# approval.

with_capable(authn, c) := object.union(authn, {"ciba_capable": c})

call_centre := {"amount": 500, "channel": "call_center"}

trigger := "billing.pay over channel call_center needs approval on the user's own device"

no_device := "the user has no device enrolled that can approve billing.pay"

undetermined := "whether the user can approve billing.pay on a device could not be determined"

test_capable_user_goes_ciba if {
	expect("decision", fixed("billing.pay", with_capable(mfa_authn(10), true), call_centre), {
		"decision": "ciba",
		"reasons": [trigger],
		"requirements": {"amr_any": ["mfa"], "max_age": 300},
	})
}

test_user_without_a_device_steps_up_to_a_fresh_login if {
	expect("decision", fixed("billing.pay", with_capable(mfa_authn(120), false), call_centre), {
		"decision": "step_up",
		"reasons": [trigger, sprintf("%s; a fresh login here is required instead", [no_device])],
		"requirements": {"amr_any": ["mfa"], "max_age": 60, "fresh_login": true},
	})
}

test_unknown_capability_steps_up if {
	expect("decision", fixed("billing.pay", with_capable(mfa_authn(120), "unknown"), call_centre), {
		"decision": "step_up",
		"reasons": [trigger, sprintf("%s; a fresh login here is required instead", [undetermined])],
		"requirements": {"amr_any": ["mfa"], "max_age": 60, "fresh_login": true},
	})
}

# The fresh login the step-up asked for stands in for the approval.
test_fresh_login_stands_in_for_the_approval if {
	every c in [false, "unknown"] {
		d := fixed("billing.pay", with_capable(mfa_authn(10), c), call_centre)
		expect("decision", d.decision, "allow")
		expect("reasons", d.reasons[0], trigger)
		expect("reason", endswith(d.reasons[1], "; a login within the last 60s stands in for the approval"), true)
	}
	expect("at the window", fixed("billing.pay", with_capable(mfa_authn(60), false), call_centre).decision, "allow")
	expect("past the window", fixed("billing.pay", with_capable(mfa_authn(61), false), call_centre).decision, "step_up")
}

# A fresh login must still meet the action's requirements, and have an
# auth_time: a password alone or an unknown age is a step-up.
test_fresh_login_must_meet_the_requirements if {
	expect("pwd", fixed("billing.pay", with_capable(pwd_authn(5), false), call_centre).decision, "step_up")
	no_time := {"methods": ["pwd", "mfa"], "mfa": true, "ciba_capable": "unknown"}
	expect("no auth_time", fixed("billing.pay", no_time, call_centre).decision, "step_up")
}

test_fallback_window_comes_from_settings if {
	d := decide("billing.pay", with_capable(mfa_authn(45), false), call_centre) with data.stepgate.actions as fixture
		with data.stepgate.settings as {"clock_skew": 60, "ciba_fallback_max_age": 30}
	expect("decision", d.decision, "step_up")
	expect("max_age", d.requirements.max_age, 30)
	bad := decide("billing.pay", with_capable(mfa_authn(5), false), call_centre) with data.stepgate.actions as fixture
		with data.stepgate.settings as {"ciba_fallback_max_age": 2.5}
	expect("bad setting", bad, {"decision": "deny", "reasons": ["policy data is invalid: settings.ciba_fallback_max_age must be a whole number of seconds, 0 or more"]})
}

# The window never exceeds the action's own max_age.
test_fallback_window_is_capped_by_max_age if {
	d := decide("billing.pay", with_capable(mfa_authn(25), false), call_centre) with data.stepgate.actions as {"billing.pay": {
		"mfa": true, "max_age": 20,
		"ciba": {"channels": ["call_center"]},
	}}
	expect("decision", d.decision, "step_up")
	expect("max_age", d.requirements.max_age, 20)
}

test_fallback_allow_holds_until_the_window_ends if {
	expect("valid_for", fixed_valid_for("billing.pay", with_capable(mfa_authn(10), false), call_centre), 51)
	expect("step-up", fixed_valid_for("billing.pay", with_capable(mfa_authn(61), false), call_centre), 86400)
	expect("ciba", fixed_valid_for("billing.pay", with_capable(mfa_authn(10), true), call_centre), 86400)
}

# Anything but true is not capable: a malformed value counts as unknown.
test_malformed_capability_counts_as_unknown if {
	every v in [null, "true", 1, {}, []] {
		d := fixed("billing.pay", with_capable(mfa_authn(120), v), call_centre)
		expect("decision", d.decision, "step_up")
		expect_in("reason", sprintf("%s; a fresh login here is required instead", [undetermined]), d.reasons)
	}
}

test_large_amount_without_a_device_steps_up if {
	d := fixed("billing.pay", with_capable(pwd_authn(7200), false), {"amount": 150000, "channel": "web"})
	expect("decision", d.decision, "step_up")
	expect("requirements", d.requirements.fresh_login, true)
}

# Requests that need no approval on a device decide alike whatever the
# capability: stepgate then never has to look it up.
test_capability_does_not_change_requests_without_ciba if {
	every c in [true, false, "unknown"] {
		expect("small web payment", fixed("billing.pay", with_capable(mfa_authn(60), c), {"amount": 1000, "channel": "web"}).decision, "allow")
		expect("view", fixed("billing.view", with_capable(mfa_authn(60), c), {}).decision, "allow")
		expect("stale view", fixed("billing.view", with_capable(pwd_authn(7200), c), {}).decision, "step_up")
	}
}

# Whatever the table says: a row's CIBA channel without a device and without
# a fresh login is a step-up to a fresh login, never an allow nor a ciba.
test_every_ciba_channel_without_a_device_steps_up if {
	every action, e in channel_rows {
		every channel in e.ciba.channels {
			every c in [false, "unknown"] {
				d := decide(action, with_capable(pwd_authn(7200), c), {"channel": channel})
				expect(action, d.decision, "step_up")
				expect(action, d.requirements.fresh_login, true)
			}
		}
	}
}
