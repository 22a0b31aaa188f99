// Package policies owns stepgate's default policy bundle: the Rego modules,
// the per-action data an admin edits as a table, and the Rego unit tests
// that pin their behaviour. Everything is embedded with go:embed.
//
// # Bundle layout
//
// Bundle returns an fs.FS in OPA bundle layout, so the same reader that
// imports an admin's directory or .tar.gz reads it:
//
//	stepgate/policy.rego        entrypoint data.stepgate.decision (ordered else chain)
//	stepgate/authn.rego         normalised authentication facts, clock skew
//	stepgate/requirements.rego  per-action requirements, unmet ones, reason text
//	stepgate/ciba.rego          when an action must be approved on the user's device
//	stepgate/validate.rego      checks of the requested action's data entry
//	stepgate/data.json          data.stepgate.settings and data.stepgate.actions
//	stepgate/*_test.rego        Rego unit tests (package stepgate_test)
//
// The decision engine loads the bundle without its test modules (IsTestFile)
// and evaluates data.stepgate.decision once per request with a prepared
// query. RunTests loads everything, test modules included, and runs the tests
// with OPA's tester; `stepgate policy test DIR` and the admin UI use it on any
// bundle, embedded or not.
//
// The shipped tests hold for any valid table: table_test.rego derives each
// row's expected decisions from data.stepgate.actions and the reason text
// from the policy's own summary, stale_reason and auth_time_text, while the
// behaviour tests run on a fixed table of their own. A failing test prints
// what it expected and what it got (TestResult.Output).
//
// # Decision
//
// data.stepgate.decision is always exactly one object:
//
//	{"decision": "allow|deny|step_up|ciba",
//	 "reasons": ["billing.view needs amr mfa within 900s; last authentication at 2025-11-21T23:46:40Z, more than 900s ago"],
//	 "requirements": {"acr_values": [...], "amr_any": ["mfa"], "max_age": 900},
//	 "ciba": {"binding_message": "PAY"},
//	 "valid_for": 86400}
//
// A stale authentication is named by its auth_time (RFC 3339, UTC), not by
// its age, so the reason does not change as time passes.
//
// valid_for (optional, any policy may set it) is the policy's statement
// that the same request, with only the clock moved on (input.now and
// subject.authn.age growing together), gets the same decision for that many
// seconds from input.now. stepgate's decision cache then answers the request
// again for that long (at most five minutes) instead of evaluating; without
// it, an answer of a policy that reads the clock is reused only within the
// same second. A number of seconds ≥ 0; a fraction is cut off; anything
// else makes the decision malformed (a deny). The default policy declares
// it on every branch whose lifetime it knows (see valid_for in policy.rego
// and validity_test.rego).
//
// requirements appears with step_up and ciba when the action has any; ciba
// only when the action's data carries a binding_message hint (otherwise
// stepgate generates one). The checks run in this order and the first that
// applies wins: unknown action → deny; invalid data entry or settings → deny;
// invalid request facts (a non-numeric context.amount where an amount
// threshold exists) → deny; auth_time further in the future than
// settings.clock_skew → deny; a CIBA trigger → ciba; an unmet requirement →
// step_up; otherwise allow.
//
// # Data schema
//
// data.stepgate.settings:
//
//	clock_skew  number ≥ 0, seconds auth_time may lie in the future (default 60)
//
// data.stepgate.actions maps an action name to an object with these optional
// keys (any other key is a data error that denies the action, so a typo
// cannot silently drop a requirement):
//
//	description  string, for the admin table only
//	mfa          bool: input.subject.authn.mfa must be true (amr ∋ mfa, or an
//	             acr the issuer declares as MFA); requirements.amr_any = ["mfa"]
//	amr_any      [string]: at least one of these amr values; "mfa" is also met
//	             by authn.mfa. Replaces ["mfa"] in requirements.amr_any
//	acr_values   [string]: authn.acr must be one of these (preference order)
//	max_age      number ≥ 0: the last authentication at most this many seconds
//	             ago; a token without auth_time never meets it
//	ciba         object: channels [string] (context.channel in it → ciba),
//	             amount_at_least number (context.amount ≥ it → ciba),
//	             binding_message string (hint passed on to stepgate, which
//	             sanitises it)
//
// An entry with no requirements ({} or only a description) allows any
// verified subject.
package policies
