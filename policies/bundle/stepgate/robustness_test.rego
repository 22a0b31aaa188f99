package stepgate_test

# Tests that the entrypoint answers every input with exactly one object, and
# that broken data or odd inputs fail closed, whatever the shipped table says
# (they run on fixture or on a table of their own).

test_every_input_yields_one_decision_object if {
	odd_inputs := [
		{},
		"not an object",
		{"action": {"name": 42}},
		{"action": {"name": "billing.view"}},
		{"action": {"name": "billing.view"}, "subject": {"authn": "garbage"}},
		{"action": {"name": "billing.view"}, "subject": {"authn": {"methods": "mfa", "mfa": "yes", "age": "1"}}},
		{"action": {"name": "billing.pay"}, "context": "web", "subject": {"authn": {"mfa": true, "age": 1}}},
		{"action": {"name": "profile.update"}, "subject": {"authn": {"auth_time": "yesterday"}}, "now": "now"},
	]
	every i in odd_inputs {
		d := data.stepgate.decision with input as i with data.stepgate.actions as fixture
		is_object(d)
		d.decision in {"allow", "deny", "step_up", "ciba"}
		count(d.reasons) > 0
	}
}

test_missing_action_denies if {
	d := data.stepgate.decision with input as {"now": now}
	expect("decision", d, {"decision": "deny", "reasons": [`unknown action ""`], "valid_for": 86400})
}

test_missing_authn_steps_up if {
	d := data.stepgate.decision with input as {"action": {"name": "billing.view"}, "now": now}
		with data.stepgate.actions as fixture
	expect("decision", d.decision, "step_up")
}

test_malformed_mfa_flag_is_not_mfa if {
	authn := {"methods": ["pwd"], "mfa": "true", "auth_time": now - 10, "age": 10}
	expect("decision", fixed("billing.view", authn, {}).decision, "step_up")
}

test_empty_action_table_denies_everything if {
	d := decide("billing.view", mfa_authn(1), {}) with data.stepgate.actions as {}
	expect("decision", d.decision, "deny")
}

# An auth_time too far in the past for time.format (beyond int64
# nanoseconds) must still step up, with the reason that names no time.
test_unformattable_ancient_auth_time_still_steps_up if {
	authn := {"methods": ["mfa"], "mfa": true, "auth_time": -100000000000}
	d := fixed("billing.view", authn, {})
	expect("decision", d.decision, "step_up")
	expect("reasons", d.reasons, ["billing.view needs amr mfa within 900s; last authentication more than 900s ago"])
}

test_missing_settings_use_default_skew if {
	d := decide("billing.view", mfa_authn(-61), {}) with data.stepgate.actions as fixture with data.stepgate.settings as {}
	expect("reasons", d.reasons, ["auth_time is 61s in the future, beyond the allowed clock skew of 60s"])
}

test_invalid_data_entries_deny_with_reason if {
	cases := [
		[{"max_age": "900"}, `policy data is invalid: actions["x"].max_age must be a non-negative number of seconds`],
		[{"max_age": -1}, `policy data is invalid: actions["x"].max_age must be a non-negative number of seconds`],
		[{"max_ag": 900}, `policy data is invalid: actions["x"] has unknown key "max_ag"`],
		[{"mfa": "yes"}, `policy data is invalid: actions["x"].mfa must be true or false`],
		[{"amr_any": "mfa"}, `policy data is invalid: actions["x"].amr_any must be a list of strings`],
		[{"acr_values": [1]}, `policy data is invalid: actions["x"].acr_values must be a list of strings`],
		[{"ciba": true}, `policy data is invalid: actions["x"].ciba must be an object`],
		[{"ciba": {"channel": ["pos"]}}, `policy data is invalid: actions["x"].ciba has unknown key "channel"`],
		[{"ciba": {"channels": "pos"}}, `policy data is invalid: actions["x"].ciba.channels must be a list of strings`],
		[{"ciba": {"amount_at_least": "1"}}, `policy data is invalid: actions["x"].ciba.amount_at_least must be a non-negative number`],
		[{"ciba": {"binding_message": 7}}, `policy data is invalid: actions["x"].ciba.binding_message must be a string`],
		[{"description": 5}, `policy data is invalid: actions["x"].description must be a string`],
		["mfa", `policy data is invalid: actions["x"] must be an object`],
	]
	every c in cases {
		d := decide("x", mfa_authn(1), {}) with data.stepgate.actions as {"x": c[0]}
		expect("decision", d, {"decision": "deny", "reasons": [c[1]]})
	}
}

test_invalid_clock_skew_denies if {
	d := decide("billing.view", mfa_authn(1), {}) with data.stepgate.actions as fixture
		with data.stepgate.settings.clock_skew as "60"
	expect("decision", d, {
		"decision": "deny",
		"reasons": ["policy data is invalid: settings.clock_skew must be a non-negative number of seconds"],
	})
}
