package stepgate

# Requirements of the requested action, read from its data entry
# (data.stepgate.actions[action]), and which of them the subject fails.

need_mfa if config.mfa == true

# required_amr lists acceptable amr values (any one suffices): the entry's
# amr_any, or ["mfa"] when it only says mfa: true.
required_amr := a if {
	a := config.amr_any
	_string_list(a)
	count(a) > 0
} else := ["mfa"] if {
	need_mfa
}

required_acr := a if {
	a := config.acr_values
	_string_list(a)
	count(a) > 0
}

max_age := m if {
	m := config.max_age
	_non_negative_number(m)
}

# fresh_login asks for a re-authentication rather than a freshness window:
# after the step-up the ID token's auth_time must be later than the request,
# so an identity-provider session that is recent enough does not count.
# stepgate asks the provider with max_age=0 (prompt=login only as a hint:
# a user can strip it; auth_time is what proves the new login).
fresh_login if config.fresh_login == true

# requirements is what stepgate turns into acr_values/max_age on the step-up
# request or the CIBA request; only the keys the action uses are present.
requirements := object.union_n([_req_amr, _req_acr, _req_age, _req_fresh])

_req_amr := {"amr_any": a} if {
	a := required_amr
} else := {}

_req_acr := {"acr_values": a} if {
	a := required_acr
} else := {}

_req_age := {"max_age": m} if {
	m := max_age
} else := {}

_req_fresh := {"fresh_login": true} if {
	fresh_login
} else := {}

# unmet holds one human-readable phrase per requirement the subject fails.
unmet contains "authentication did not use mfa" if {
	need_mfa
	not mfa
}

unmet contains msg if {
	wanted := config.amr_any
	_string_list(wanted)
	count(wanted) > 0
	not _amr_satisfied(wanted)
	msg := sprintf("authentication used %s, none of amr %s", [_methods_text, concat(" ", wanted)])
}

unmet contains msg if {
	wanted := required_acr
	not acr in wanted
	msg := sprintf("acr %s is not one of %s", [_acr_text, concat(" ", wanted)])
}

unmet contains "no auth_time in token" if {
	_ = max_age
	not auth_age
}

# The stale-authentication phrase names when the user authenticated, not how
# long ago: it stays the same as time passes (age only grows, so a stale
# authentication stays stale), which lets the decision cache keep the answer.
unmet contains stale_reason(_auth_time_text, max_age) if {
	auth_age > max_age
}

# stale_reason is the phrase for an authentication older than m seconds;
# at is auth_time_text of the token's auth_time ("" when it has none). The
# Rego tests build their expectations with it, so a table edit of max_age
# changes policy and tests alike.
stale_reason(at, m) := sprintf("last authentication %smore than %vs ago", [at, m])

_auth_time_text := auth_time_text(t) if {
	t := authn.auth_time
} else := ""

# auth_time_text(t) is "at <t as RFC 3339 UTC, whole seconds>, " for a
# numeric auth_time t, else "" (only authn.age known). It is also "" for an
# auth_time time.format cannot represent (outside the years 1678-2262,
# beyond int64 nanoseconds): the phrase must exist regardless, or the
# step-up would be lost.
auth_time_text(t) := sprintf("at %s, ", [s]) if {
	is_number(t)
	s := time.format([floor(t) * 1000000000, "UTC", "2006-01-02T15:04:05Z07:00"])
} else := ""

# "mfa" in amr_any is also met by an acr meaning MFA (authn.mfa), so that one
# entry serves Auth0-style amr and Keycloak-style acr tokens alike.
_amr_satisfied(wanted) if {
	some m in methods
	m in wanted
}

_amr_satisfied(wanted) if {
	"mfa" in wanted
	mfa
}

_methods_text := sprintf("amr %s", [concat(" ", methods)]) if {
	count(methods) > 0
} else := "no amr"

_acr_text := sprintf("%q", [acr]) if {
	acr != ""
} else := "(none)"

# summary states the action's requirements, e.g.
# "billing.view needs amr mfa within 900s".
summary := sprintf("%s needs %s%s", [action_name, _needs_text, _within_text])

_needs_text := concat(" and ", _needs_parts) if {
	count(_needs_parts) > 0
} else := "authentication"

_needs_parts := array.concat(array.concat(_amr_part, _acr_part), _fresh_part)

_fresh_part := ["a fresh login"] if {
	fresh_login
} else := []

_amr_part := [sprintf("amr %s", [concat(" or ", a)])] if {
	a := required_amr
} else := []

_acr_part := [sprintf("acr %s", [concat(" or ", a)])] if {
	a := required_acr
} else := []

_within_text := sprintf(" within %vs", [m]) if {
	m := max_age
} else := ""
