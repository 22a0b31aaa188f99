package stepgate

# Validation of the requested action's data entry and of the settings. A
# typo in the table ("max_ag") must not silently drop a requirement, so every
# problem denies the request with a reason naming the bad field. Only the
# requested entry is checked, which keeps the cost per request constant.

_action_keys := {"description", "mfa", "amr_any", "acr_values", "max_age", "ciba"}

_ciba_keys := {"channels", "amount_at_least", "binding_message"}

data_errors contains "settings.clock_skew must be a non-negative number of seconds" if {
	s := data.stepgate.settings.clock_skew
	not _non_negative_number(s)
}

data_errors contains sprintf("actions[%q] must be an object", [action_name]) if {
	known_action
	not is_object(config)
}

data_errors contains sprintf("actions[%q] has unknown key %q", [action_name, k]) if {
	is_object(config)
	some k, _ in config
	not k in _action_keys
}

data_errors contains sprintf("actions[%q].mfa must be true or false", [action_name]) if {
	x := config.mfa
	not is_boolean(x)
}

data_errors contains sprintf("actions[%q].%s must be a list of strings", [action_name, k]) if {
	some k in ["amr_any", "acr_values"]
	x := config[k]
	not _string_list(x)
}

data_errors contains sprintf("actions[%q].max_age must be a non-negative number of seconds", [action_name]) if {
	x := config.max_age
	not _non_negative_number(x)
}

data_errors contains sprintf("actions[%q].ciba must be an object", [action_name]) if {
	x := config.ciba
	not is_object(x)
}

data_errors contains sprintf("actions[%q].ciba has unknown key %q", [action_name, k]) if {
	some k, _ in ciba_conf
	not k in _ciba_keys
}

data_errors contains sprintf("actions[%q].ciba.channels must be a list of strings", [action_name]) if {
	x := ciba_conf.channels
	not _string_list(x)
}

data_errors contains sprintf("actions[%q].ciba.amount_at_least must be a non-negative number", [action_name]) if {
	x := ciba_conf.amount_at_least
	not _non_negative_number(x)
}

data_errors contains sprintf("actions[%q].ciba.binding_message must be a string", [action_name]) if {
	x := ciba_conf.binding_message
	not is_string(x)
}
