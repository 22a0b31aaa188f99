package stepgate_test

# Tests proving that the requirements come from data.stepgate.actions and
# data.stepgate.settings, i.e. an admin's table edit changes decisions
# without touching Rego.

test_max_age_comes_from_data if {
	d := decide("billing.view", mfa_authn(120), {}) with data.stepgate.actions as {"billing.view": {"mfa": true, "max_age": 60}}
	expect("decision", d, {
		"decision": "step_up",
		"reasons": ["billing.view needs amr mfa within 60s; last authentication at 2025-11-22T00:04:40Z, more than 60s ago"],
		"requirements": {"amr_any": ["mfa"], "max_age": 60},
	})
}

# A fresh-login entry carries fresh_login in its requirements, so that
# stepgate asks the provider for a new login and verify demands one; a
# freshness window (billing.view) does not.
test_fresh_login_comes_from_data if {
	actions := {"keys.show": {"mfa": true, "max_age": 120, "fresh_login": true}}
	d := decide("keys.show", pwd_authn(10), {}) with data.stepgate.actions as actions
	expect("decision", d, {
		"decision": "step_up",
		"reasons": ["keys.show needs amr mfa and a fresh login within 120s; authentication did not use mfa"],
		"requirements": {"amr_any": ["mfa"], "max_age": 120, "fresh_login": true},
	})
	not fixed("billing.view", pwd_authn(10), {}).requirements.fresh_login
}

test_fresh_login_must_be_boolean if {
	d := decide("keys.show", pwd_authn(10), {}) with data.stepgate.actions as {"keys.show": {"fresh_login": "yes"}}
	expect("decision", d, {"decision": "deny", "reasons": [`policy data is invalid: actions["keys.show"].fresh_login must be true or false`]})
}

test_new_action_from_data if {
	actions := {"reports.export": {"max_age": 30}}
	expect("decision", decide("reports.export", pwd_authn(10), {}).decision, "allow") with data.stepgate.actions as actions
	expect("decision", decide("billing.view", mfa_authn(10), {}).decision, "deny") with data.stepgate.actions as actions
}

test_action_without_requirements_allows if {
	d := decide("docs.read", {}, {}) with data.stepgate.actions as {"docs.read": {"description": "public docs"}}
	expect("decision", d, {"decision": "allow", "reasons": ["docs.read needs authentication; requirements met"]})
}

test_amr_any_demands_specific_factors if {
	actions := {"keys.rotate": {"amr_any": ["hwk", "swk"], "max_age": 120}}
	hwk := {"methods": ["pwd", "hwk"], "mfa": true, "auth_time": now - 5, "age": 5}
	expect("decision", decide("keys.rotate", hwk, {}).decision, "allow") with data.stepgate.actions as actions
	d := decide("keys.rotate", mfa_authn(5), {}) with data.stepgate.actions as actions
	expect("decision", d, {
		"decision": "step_up",
		"reasons": ["keys.rotate needs amr hwk or swk within 120s; authentication used amr pwd mfa, none of amr hwk swk"],
		"requirements": {"amr_any": ["hwk", "swk"], "max_age": 120},
	})
}

test_amr_any_mfa_is_met_by_acr_meaning_mfa if {
	actions := {"billing.view": {"amr_any": ["mfa"], "mfa": true, "max_age": 900}}
	keycloak := {"methods": [], "mfa": true, "acr": "gold", "auth_time": now - 5, "age": 5}
	expect("decision", decide("billing.view", keycloak, {}).decision, "allow") with data.stepgate.actions as actions
}

test_acr_values_from_data if {
	actions := {"admin.console": {"acr_values": ["urn:loa:3", "urn:loa:4"]}}
	loa3 := {"methods": [], "mfa": true, "acr": "urn:loa:3", "auth_time": now - 5, "age": 5}
	expect("decision", decide("admin.console", loa3, {}).decision, "allow") with data.stepgate.actions as actions
	loa1 := object.union(loa3, {"acr": "urn:loa:1"})
	d := decide("admin.console", loa1, {}) with data.stepgate.actions as actions
	expect("decision", d, {
		"decision": "step_up",
		"reasons": [`admin.console needs acr urn:loa:3 or urn:loa:4; acr "urn:loa:1" is not one of urn:loa:3 urn:loa:4`],
		"requirements": {"acr_values": ["urn:loa:3", "urn:loa:4"]},
	})
}

test_ciba_triggers_and_binding_message_from_data if {
	actions := {"billing.pay": {"mfa": true, "ciba": {"channels": ["kiosk"], "amount_at_least": 10, "binding_message": "PAY"}}}
	kiosk := decide("billing.pay", mfa_authn(5), {"amount": 1, "channel": "kiosk"}) with data.stepgate.actions as actions
	expect("decision", kiosk, {
		"decision": "ciba",
		"reasons": ["billing.pay over channel kiosk needs approval on the user's own device"],
		"requirements": {"amr_any": ["mfa"]},
		"ciba": {"binding_message": "PAY"},
	})
	call_centre := decide("billing.pay", mfa_authn(5), {"amount": 1, "channel": "call_center"}) with data.stepgate.actions as actions
	expect("decision", call_centre.decision, "allow")
	large := decide("billing.pay", mfa_authn(5), {"amount": 10, "channel": "web"}) with data.stepgate.actions as actions
	expect("decision", large.decision, "ciba")
}

test_ciba_without_requirements_has_no_requirements_key if {
	actions := {"door.open": {"ciba": {"channels": ["speaker"]}}}
	d := decide("door.open", {}, {"channel": "speaker"}) with data.stepgate.actions as actions
	expect("decision", d, {"decision": "ciba", "reasons": ["door.open over channel speaker needs approval on the user's own device"]})
}

test_clock_skew_from_data if {
	d := decide("billing.view", mfa_authn(-30), {}) with data.stepgate.settings.clock_skew as 0
	expect("reasons", d.reasons, ["auth_time is 30s in the future, beyond the allowed clock skew of 0s"])
}
