package stepgate_test

# Helpers shared by the test modules. Two kinds of tests use them:
#   - behaviour tests pin what the policy does with a fixed table (fixture,
#     through fixed), so they hold whatever an admin puts in data.json;
#   - table tests (table_test.rego) read the shipped table
#     (data.stepgate.actions) and derive what each row must decide, so any
#     valid edit of the table keeps them green.

now := 1763770000

request(action, authn, context) := {
	"subject": {"type": "user", "id": "u1", "claims": {"iss": "https://idp.example/", "sub": "u1"}, "authn": authn},
	"action": {"name": action},
	"resource": {"type": "invoice", "id": "inv_42"},
	"context": context,
	"now": now,
	"client": {"id": "billing-svc"},
}

# Auth0 style: amr lists the factors, mfa among them.
mfa_authn(age) := {"methods": ["pwd", "mfa"], "mfa": true, "auth_time": now - age, "age": age}

pwd_authn(age) := {"methods": ["pwd"], "mfa": false, "auth_time": now - age, "age": age}

# decide is the decision under the data in scope, without valid_for, which
# validity_test.rego pins.
decide(action, authn, context) := object.remove(d, ["valid_for"]) if {
	d := data.stepgate.decision with input as request(action, authn, context)
}

# fixture is a table of the shipped kind, fixed here so that the behaviour
# tests do not depend on what an admin did to data.json.
fixture := {
	"billing.view": {"mfa": true, "max_age": 900},
	"billing.pay": {
		"mfa": true,
		"max_age": 300,
		"ciba": {"channels": ["call_center", "pos"], "amount_at_least": 100000},
	},
	"profile.update": {"max_age": 300, "fresh_login": true},
}

fixture_settings := {"clock_skew": 60}

# fixed is decide under fixture and fixture_settings.
fixed(action, authn, context) := d if {
	d := decide(action, authn, context) with data.stepgate.actions as fixture
		with data.stepgate.settings as fixture_settings
}

# expect holds when got equals want; otherwise it prints both, which the
# test report (policies.TestResult.Output, the admin UI) shows, and fails.
expect(what, got, want) if {
	got == want
} else := false if {
	print(sprintf("%s: expected %v, got %v", [what, want, got]))
}

# expect_in holds when x is in xs; otherwise it prints both and fails.
expect_in(what, x, xs) if {
	x in xs
} else := false if {
	print(sprintf("%s: expected one of %v, got %v", [what, xs, x]))
}
