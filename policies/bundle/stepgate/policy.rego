# METADATA
# title: stepgate default policy
# description: >-
#   Decides allow, deny, step_up or ciba for one request from the per-action
#   requirements in data.stepgate.actions.
package stepgate

# The else chain orders the checks and guarantees exactly one value for every
# input: bad policy data and impossible tokens deny first, CIBA beats step-up
# and allow, step-up beats allow. A request that needs CIBA from a user who
# cannot approve on a device (or of whom it is unknown) needs a fresh login
# here instead: allowed right after one, a step-up to one otherwise.

# METADATA
# title: decision
# description: >-
#   The entrypoint; always an object with decision and reasons, and
#   valid_for when the answer's lifetime is known.
# entrypoint: true
# scope: document
default decision := {
	"decision": "deny",
	"reasons": ["policy produced no decision"],
}

decision := object.union(_decision, _validity)

_validity := {"valid_for": v} if {
	v := valid_for
} else := {}

_decision := _deny([sprintf("unknown action %q", [action_name])]) if {
	not known_action
} else := _deny(_data_error_reasons) if {
	not data_valid
} else := _deny([sprintf("invalid request: %s", [e]) | some e in input_errors]) if {
	count(input_errors) > 0
} else := _deny([sprintf(
	"auth_time is %vs in the future, beyond the allowed clock skew of %vs",
	[0 - auth_age, clock_skew],
)]) if {
	auth_in_future
} else := {
	"decision": "allow",
	"reasons": array.concat(sort(ciba_triggers), [sprintf(
		"%s; a login within the last %vs stands in for the approval",
		[ciba_fallback, ciba_fallback_max_age],
	)]),
} if {
	ciba_fallback_allows
} else := {
	"decision": "step_up",
	"reasons": array.concat(sort(ciba_triggers), [sprintf("%s; a fresh login here is required instead", [ciba_fallback])]),
	"requirements": ciba_fallback_requirements,
} if {
	count(ciba_triggers) > 0
	ciba_fallback
} else := _with_ciba_hint(_with_requirements({
	"decision": "ciba",
	"reasons": sort(ciba_triggers),
})) if {
	count(ciba_triggers) > 0
} else := _with_requirements({
	"decision": "step_up",
	"reasons": [sprintf("%s; %s", [summary, u]) | some u in sort(unmet)],
}) if {
	count(unmet) > 0
} else := {
	"decision": "allow",
	"reasons": [sprintf("%s; requirements met", [summary])],
}

_deny(reasons) := {"decision": "deny", "reasons": reasons}

# valid_for is how many seconds, from input.now on, the same request keeps
# this decision as the clock moves on, so that stepgate may answer it again
# without evaluating. Only time moves: the authentication's age grows with
# now, and nothing else in the input changes. It follows the else chain of
# the decision:
#   - unknown action, invalid data, invalid request facts, ciba and the
#     step-up to a fresh login that replaces it read no time;
#   - the allow after such a fresh login holds while the login is within
#     ciba_fallback_max_age (whole seconds only, as for max_age below); neither does anything when no max_age applies or the token has
#     no auth_time (then auth_age is undefined forever);
#   - an auth_time in the future names the age: no valid_for (one second);
#   - a stale authentication (age > max_age) stays stale, and its phrase
#     names auth_time and max_age, not the age: unchanging;
#   - otherwise age ≤ max_age and the answer holds while it stays so, up to
#     and including the second where age = max_age. For a max_age with a
#     fraction the policy says nothing, so no rounding can stretch it.
_unchanging := 86400

valid_for := _unchanging if {
	not known_action
} else := _unchanging if {
	not data_valid
} else := _unchanging if {
	count(input_errors) > 0
} else := 0 if {
	auth_in_future
} else := min([(ciba_fallback_max_age - auth_age) + 1, _unchanging]) if {
	ciba_fallback_allows
	ciba_fallback_max_age == floor(ciba_fallback_max_age)
} else := _unchanging if {
	count(ciba_triggers) > 0
	not ciba_fallback_allows
} else := _unchanging if {
	not _age_counts
} else := min([(max_age - auth_age) + 1, _unchanging]) if {
	max_age == floor(max_age)
}

# _age_counts: a max_age applies and the authentication is not yet past it.
_age_counts if auth_age <= max_age

# data_errors should explain every way data_valid can fail; the fallback
# keeps the reasons non-empty should the two ever disagree.
_data_error_reasons := [sprintf("policy data is invalid: %s", [e]) | some e in data_errors] if {
	count(data_errors) > 0
} else := [sprintf("policy data is invalid: actions[%q] does not match the schema", [action_name])]

# _with_requirements adds the requirements object when the action has any.
_with_requirements(d) := object.union(d, {"requirements": requirements}) if {
	count(requirements) > 0
} else := d

# _with_ciba_hint adds a binding-message hint when the action's data has one;
# without it stepgate generates a short random binding message itself.
_with_ciba_hint(d) := object.union(d, {"ciba": {"binding_message": m}}) if {
	m := ciba_conf.binding_message
	is_string(m)
	m != ""
} else := d

# action_name is the requested action; "" when the input names none.
action_name := n if {
	n := input.action.name
	is_string(n)
} else := ""

# config is the data entry of the requested action; undefined when unknown.
# A direct lookup keeps evaluation cost independent of the table's size.
config := data.stepgate.actions[action_name]

known_action if {
	_ = config
}

# input_errors are request facts the policy cannot judge safely; guessing
# would risk skipping a CIBA approval, so they deny.
input_errors contains "context.amount must be a number" if {
	_ = ciba_conf.amount_at_least
	amount := input.context.amount
	not is_number(amount)
}
