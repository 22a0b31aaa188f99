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

# ciba_fallback says why the approval cannot be asked for on a device; the
# request then steps up to a fresh login meeting the action's requirements
# here instead (the triggers mean the current session is not enough, so an
# existing provider session must not count). Never an allow.
ciba_fallback := sprintf(
	"the user has no device enrolled that can approve %s; a fresh login here is required instead",
	[action_name],
) if {
	authn.ciba_capable == false
} else := sprintf(
	"whether the user can approve %s on a device could not be determined; a fresh login here is required instead",
	[action_name],
) if {
	_ = authn.ciba_capable
	not ciba_capable
}

# ciba_fallback_requirements are the action's requirements with a fresh login.
ciba_fallback_requirements := object.union(requirements, {"fresh_login": true})
