package stepgate_test

# CIBA only where the user can approve: input.subject.authn.ciba_capable is
# true, false or "unknown" when stepgate looked the user's devices up, and
# absent when their issuer has no enrollment lookup (the CIBA tests in
# policy_test.rego cover that case).

with_capable(authn, c) := object.union(authn, {"ciba_capable": c})

call_centre := {"amount": 500, "channel": "call_center"}

test_capable_user_goes_ciba if {
	expect("decision", fixed("billing.pay", with_capable(mfa_authn(10), true), call_centre), {
		"decision": "ciba",
		"reasons": ["billing.pay over channel call_center needs approval on the user's own device"],
		"requirements": {"amr_any": ["mfa"], "max_age": 300},
	})
}

test_user_without_a_device_steps_up_to_a_fresh_login if {
	expect("decision", fixed("billing.pay", with_capable(mfa_authn(10), false), call_centre), {
		"decision": "step_up",
		"reasons": [
			"billing.pay over channel call_center needs approval on the user's own device",
			"the user has no device enrolled that can approve billing.pay; a fresh login here is required instead",
		],
		"requirements": {"amr_any": ["mfa"], "max_age": 300, "fresh_login": true},
	})
}

test_unknown_capability_steps_up_never_allows if {
	expect("decision", fixed("billing.pay", with_capable(mfa_authn(10), "unknown"), call_centre), {
		"decision": "step_up",
		"reasons": [
			"billing.pay over channel call_center needs approval on the user's own device",
			"whether the user can approve billing.pay on a device could not be determined; a fresh login here is required instead",
		],
		"requirements": {"amr_any": ["mfa"], "max_age": 300, "fresh_login": true},
	})
}

# Anything but true is not capable: a malformed value is treated as unknown.
test_malformed_capability_counts_as_unknown if {
	every v in [null, "true", 1, {}, []] {
		d := fixed("billing.pay", with_capable(mfa_authn(10), v), call_centre)
		expect("decision", d.decision, "step_up")
		expect_in("reason", "whether the user can approve billing.pay on a device could not be determined; a fresh login here is required instead", d.reasons)
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

# Whatever the table says: a row's CIBA channel without a device is a
# step_up to a fresh login, never an allow nor a ciba.
test_every_ciba_channel_without_a_device_steps_up if {
	every action, e in channel_rows {
		every channel in e.ciba.channels {
			every c in [false, "unknown"] {
				d := decide(action, with_capable(strong_authn(e, fresh_age(e)), c), {"channel": channel})
				expect(action, d.decision, "step_up")
				expect(action, d.requirements.fresh_login, true)
			}
		}
	}
}
