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
