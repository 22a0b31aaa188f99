package stepgate_test

# Tests of the shipped table (data.stepgate.actions): each row decides what
# it says. Expectations are derived from the row, and the reason text from
# the policy's own summary and phrase functions, so that any valid edit of
# the table in the admin UI (a max_age, mfa on or off, a fresh login, amr or
# acr values, CIBA triggers, a new action) keeps these tests green, while a
# policy change that stops honouring a row fails them.

table := data.stepgate.actions

# summary_of is the policy's statement of the action's requirements, the
# prefix of every step_up and allow reason.
summary_of(action) := s if {
	s := data.stepgate.summary with input as {"action": {"name": action}}
}

# wanted_requirements is what a row asks the identity provider for,
# restated from the schema in policies/doc.go.
wanted_requirements(e) := object.union_n([
	_want_amr(e),
	_want_acr(e),
	_want_age(e),
	_want_fresh(e),
])

_want_amr(e) := {"amr_any": e.amr_any} if {
	count(e.amr_any) > 0
} else := {"amr_any": ["mfa"]} if {
	e.mfa == true
} else := {}

_want_acr(e) := {"acr_values": e.acr_values} if {
	count(e.acr_values) > 0
} else := {}

_want_age(e) := {"max_age": e.max_age} if {
	_ = e.max_age
} else := {}

_want_fresh(e) := {"fresh_login": true} if {
	e.fresh_login == true
} else := {}

# with_requirements adds the row's requirements when it has any.
with_requirements(d, e) := object.union(d, {"requirements": r}) if {
	r := wanted_requirements(e)
	count(r) > 0
} else := d

# with_hint adds the row's CIBA binding-message hint when it has one.
with_hint(d, e) := object.union(d, {"ciba": {"binding_message": e.ciba.binding_message}}) if {
	e.ciba.binding_message != ""
} else := d

# strong_authn meets every authentication requirement a row can state:
# MFA, each amr value it names, its most preferred acr, at the given age.
strong_authn(e, age) := object.union(
	{"methods": array.concat(["pwd", "mfa"], object.get(e, "amr_any", [])), "mfa": true, "auth_time": now - age, "age": age},
	_strong_acr(e),
)

_strong_acr(e) := {"acr": e.acr_values[0]} if {
	count(e.acr_values) > 0
} else := {}

# fresh_age is an age within the row's max_age (120 s when it has none).
fresh_age(e) := min([120, e.max_age]) if {
	_ = e.max_age
} else := 120

# The rows a test applies to; a test over no rows passes.
aged_rows := {a: e | some a, e in table; _ = e.max_age}

whole_aged_rows := {a: e | some a, e in aged_rows; e.max_age == floor(e.max_age)}

mfa_rows := {a: e | some a, e in table; e.mfa == true}

amr_rows := {a: e | some a, e in table; count(e.amr_any) > 0}

acr_rows := {a: e | some a, e in table; count(e.acr_values) > 0}

open_rows := {a: e | some a, e in table; count(wanted_requirements(e)) == 0; not e.ciba}

amount_rows := {a: e | some a, e in table; _ = e.ciba.amount_at_least}

positive_amount_rows := {a: e | some a, e in amount_rows; e.ciba.amount_at_least > 0}

channel_rows := {a: e | some a, e in table; count(e.ciba.channels) > 0}

test_every_action_allows_what_meets_its_row if {
	every action, e in table {
		expect(
			action,
			decide(action, strong_authn(e, fresh_age(e)), {}),
			{"decision": "allow", "reasons": [sprintf("%s; requirements met", [summary_of(action)])]},
		)
	}
}

test_every_max_age_allows_at_its_limit if {
	every action, e in aged_rows {
		expect(action, decide(action, strong_authn(e, e.max_age), {}).decision, "allow")
	}
}

test_every_max_age_steps_up_past_its_limit if {
	every action, e in aged_rows {
		age := e.max_age + 60
		expect(action, decide(action, strong_authn(e, age), {}), with_requirements(
			{
				"decision": "step_up",
				"reasons": [sprintf("%s; %s", [
					summary_of(action),
					data.stepgate.stale_reason(data.stepgate.auth_time_text(now - age), e.max_age),
				])],
			},
			e,
		))
	}
}

test_every_max_age_needs_an_auth_time if {
	every action, e in aged_rows {
		authn := object.remove(strong_authn(e, 1), ["auth_time", "age"])
		expect(action, decide(action, authn, {}), with_requirements(
			{"decision": "step_up", "reasons": [sprintf("%s; no auth_time in token", [summary_of(action)])]},
			e,
		))
	}
}

test_every_mfa_row_steps_up_a_password_only_login if {
	every action, e in mfa_rows {
		d := decide(action, pwd_authn(fresh_age(e)), {})
		expect(action, d.decision, "step_up")
		expect(action, d.requirements, wanted_requirements(e))
		expect_in(action, sprintf("%s; authentication did not use mfa", [summary_of(action)]), d.reasons)
	}
}

test_every_amr_row_steps_up_other_factors if {
	every action, e in amr_rows {
		authn := {"methods": ["none_of_these"], "mfa": false, "auth_time": now - fresh_age(e), "age": fresh_age(e)}
		d := decide(action, authn, {})
		expect(action, d.decision, "step_up")
		expect_in(
			action,
			sprintf("%s; authentication used amr none_of_these, none of amr %s", [summary_of(action), concat(" ", e.amr_any)]),
			d.reasons,
		)
	}
}

test_every_acr_row_steps_up_another_level if {
	every action, e in acr_rows {
		authn := object.union(strong_authn(e, fresh_age(e)), {"acr": "urn:stepgate:test:no-such-level"})
		d := decide(action, authn, {})
		expect(action, d.decision, "step_up")
		expect(action, d.requirements, wanted_requirements(e))
	}
}

test_rows_without_requirements_allow_any_verified_subject if {
	every action, _ in open_rows {
		expect(action, decide(action, {}, {}).decision, "allow")
	}
}

test_every_fresh_login_row_asks_for_a_new_login if {
	every action, e in table {
		d := decide(action, {}, {})
		expect(action, object.get(d, ["requirements", "fresh_login"], false), object.get(e, "fresh_login", false))
	}
}

test_every_ciba_channel_goes_to_the_device if {
	every action, e in channel_rows {
		every channel in e.ciba.channels {
			d := decide(action, pwd_authn(7200), {"channel": channel})
			expect(action, d, with_hint(
				with_requirements(
					{
						"decision": "ciba",
						"reasons": [sprintf("%s over channel %s needs approval on the user's own device", [action, channel])],
					},
					e,
				),
				e,
			))
		}
	}
}

test_every_ciba_amount_goes_to_the_device_from_its_threshold if {
	every action, e in amount_rows {
		limit := e.ciba.amount_at_least
		d := decide(action, strong_authn(e, fresh_age(e)), {"amount": limit, "channel": "test-no-such-channel"})
		expect(action, d.decision, "ciba")
		expect(action, d.reasons, [sprintf("%s of amount %v (at least %v) needs approval on the user's own device", [action, limit, limit])])
	}
}

test_every_ciba_amount_below_its_threshold_stays_in_the_browser if {
	every action, e in positive_amount_rows {
		limit := e.ciba.amount_at_least
		d := decide(action, strong_authn(e, fresh_age(e)), {"amount": limit / 2, "channel": "test-no-such-channel"})
		expect(action, d.decision, "allow")
	}
}

test_every_ciba_amount_must_be_a_number if {
	every action, e in amount_rows {
		expect(action, decide(action, strong_authn(e, fresh_age(e)), {"amount": "1"}), {
			"decision": "deny",
			"reasons": ["invalid request: context.amount must be a number"],
		})
	}
}

test_every_allow_holds_until_its_max_age if {
	every action, e in whole_aged_rows {
		m := e.max_age
		age := fresh_age(e)
		v := data.stepgate.decision.valid_for with input as request(action, strong_authn(e, age), {})
		expect(action, v, min([(m - age) + 1, 86400]))
	}
}

test_every_row_is_valid if {
	every action, _ in table {
		d := decide(action, {}, {})
		expect(action, d.decision != "deny", true)
	}
}
