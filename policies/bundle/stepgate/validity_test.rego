package stepgate_test

# valid_for: how long the same request keeps its decision as the clock
# moves on. stepgate's decision cache serves an answer no longer than this,
# and its differential tests sweep the clock to check that it is never
# served past the second where the policy would answer differently.

valid_for(action, authn, context) := v if {
	v := data.stepgate.decision.valid_for with input as request(action, authn, context)
}

# fixed_valid_for is valid_for under fixture (helpers_test.rego).
fixed_valid_for(action, authn, context) := v if {
	v := valid_for(action, authn, context) with data.stepgate.actions as fixture
}

test_allow_holds_until_max_age if {
	# billing.view: max_age 900; at age 120 the allow holds through age 900.
	expect("valid_for", fixed_valid_for("billing.view", mfa_authn(120), {}), 781)
	expect("valid_for", fixed_valid_for("billing.view", mfa_authn(900), {}), 1)
}

test_step_up_for_mfa_holds_until_max_age if {
	# Missing mfa is the unmet requirement; past max_age a second phrase joins.
	expect("valid_for", fixed_valid_for("billing.view", pwd_authn(850), {}), 51)
}

test_stale_step_up_is_unchanging if {
	expect("valid_for", fixed_valid_for("billing.view", mfa_authn(901), {}), 86400)
	expect("valid_for", fixed_valid_for("profile.update", pwd_authn(5000), {}), 86400)
}

test_answers_that_read_no_time_are_unchanging if {
	expect("valid_for", fixed_valid_for("admin.delete_everything", mfa_authn(1), {}), 86400)
	expect("valid_for", fixed_valid_for("billing.pay", mfa_authn(10), {"amount": 500, "channel": "call_center"}), 86400)
	expect("valid_for", fixed_valid_for("billing.pay", mfa_authn(10), {"amount": "120000"}), 86400)
	expect("valid_for", fixed_valid_for("billing.view", {"methods": ["pwd", "mfa"], "mfa": true}, {}), 86400)
}

test_invalid_data_is_unchanging if {
	d := data.stepgate.decision with input as request("billing.view", mfa_authn(1), {})
		with data.stepgate.actions as fixture
		with data.stepgate.settings.clock_skew as "60"
	expect("decision", d.decision, "deny")
	expect("valid_for", d.valid_for, 86400)
}

test_future_auth_time_lives_one_second if {
	d := data.stepgate.decision with input as request("billing.view", mfa_authn(-120), {})
		with data.stepgate.actions as fixture
	expect("decision", d.decision, "deny")
	expect("valid_for", d.valid_for, 0)
}

test_fractional_max_age_declares_nothing if {
	d := data.stepgate.decision with input as request("billing.view", mfa_authn(120), {})
		with data.stepgate.actions as {"billing.view": {"mfa": true, "max_age": 900.5}}
	expect("decision", d.decision, "allow")
	not d.valid_for
}

test_large_max_age_is_capped if {
	expect("valid_for", valid_for("billing.view", mfa_authn(120), {}), 86400) with data.stepgate.actions as {"billing.view": {"mfa": true, "max_age": 1000000}}
}
