package stepgate

# CIBA: some requests must be approved on the user's own device whatever the
# token says, because the person asking (a call-centre agent, a shop
# terminal) is not the user, or because the amount is too large to trust a
# browser session with. The triggers live in the action's "ciba" entry.

ciba_conf := c if {
	c := config.ciba
	is_object(c)
}

# ciba_triggers holds one reason per trigger that fired.
ciba_triggers contains msg if {
	channel := input.context.channel
	is_string(channel)
	channel in ciba_conf.channels
	msg := sprintf("%s over channel %s needs approval on the user's own device", [action_name, channel])
}

ciba_triggers contains msg if {
	limit := ciba_conf.amount_at_least
	amount := input.context.amount
	is_number(amount)
	amount >= limit
	msg := sprintf(
		"%s of amount %v (at least %v) needs approval on the user's own device",
		[action_name, amount, limit],
	)
}

# Whether the user can approve on a device at all: stepgate fills
# input.subject.authn.ciba_capable from the issuer's enrollment lookup with
# true, false or "unknown" (the lookup failed or timed out). Without a
# lookup configured for the user's issuer the field is absent and CIBA is
# asked for as before. Only true means capable: a bare reference would also
# hold for "unknown".
ciba_capable if authn.ciba_capable == true

# ciba_fallback says why the approval cannot be asked for on a device. The
# request then needs a fresh login here instead: one that meets the
# action's requirements and is at most ciba_fallback_max_age old stands in
# for the approval; anything else steps up to such a login (the triggers
# mean the current session is not enough, so an existing provider session
# must not count). A failed lookup is never an allow by itself.
ciba_fallback := sprintf("the user has no device enrolled that can approve %s", [action_name]) if {
	authn.ciba_capable == false
} else := sprintf("whether the user can approve %s on a device could not be determined", [action_name]) if {
	_ = authn.ciba_capable
	not ciba_capable
}

# ciba_fallback_max_age is how recent (seconds) that login must be:
# settings.ciba_fallback_max_age (default 60), never more than the action's
# max_age.
default _fallback_setting := 60

_fallback_setting := s if {
	s := data.stepgate.settings.ciba_fallback_max_age
	_whole_seconds(s)
}

ciba_fallback_max_age := min([_fallback_setting, max_age]) if {
	_ = max_age
} else := _fallback_setting

# ciba_fallback_allows: CIBA is needed, cannot be had, and a login meeting
# the requirements within the fallback window stands in for it.
ciba_fallback_allows if {
	count(ciba_triggers) > 0
	ciba_fallback
	count(unmet) == 0
	auth_age <= ciba_fallback_max_age
}

ciba_fallback_requirements := object.union(requirements, {"max_age": ciba_fallback_max_age, "fresh_login": true})

_whole_seconds(x) if {
	_non_negative_number(x)
	x == floor(x)
}
