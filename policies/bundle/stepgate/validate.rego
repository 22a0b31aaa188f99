package stepgate

# Validation of the requested action's data entry and of the settings. A
# typo in the table ("max_ag") must not silently drop a requirement, so every
# problem denies the request with a reason naming the bad field. Only the
# requested entry is checked, which keeps the cost per request constant, and
# the per-field messages are built only once data_valid has failed.

# data_valid holds when the settings and the requested action's entry match
# the schema documented in the package README.
data_valid if {
	_settings_valid
	_fallback_setting_valid
	is_object(config)
	every k, v in config {
		_action_field_valid(k, v)
	}
}

_settings_valid if not _has_clock_skew

_settings_valid if _non_negative_number(data.stepgate.settings.clock_skew)

_has_clock_skew if {
	_ = data.stepgate.settings.clock_skew
}

# _action_fields and _ciba_fields name each allowed key and what it must be.
_action_fields := {
	"description": "must be a string",
	"mfa": "must be true or false",
	"amr_any": "must be a list of strings",
	"acr_values": "must be a list of strings",
	"max_age": "must be a non-negative number of seconds",
	"fresh_login": "must be true or false",
	"ciba": "must be an object",
}

_ciba_fields := {
	"channels": "must be a list of strings",
	"amount_at_least": "must be a non-negative number",
	"binding_message": "must be a string",
}

_action_field_valid("description", v) if is_string(v)

_action_field_valid("mfa", v) if is_boolean(v)

_action_field_valid("amr_any", v) if _string_list(v)

_action_field_valid("acr_values", v) if _string_list(v)

_action_field_valid("max_age", v) if _non_negative_number(v)

_action_field_valid("fresh_login", v) if is_boolean(v)

_action_field_valid("ciba", v) if {
	is_object(v)
	every k, x in v {
		_ciba_field_valid(k, x)
	}
}

_ciba_field_valid("channels", v) if _string_list(v)

_ciba_field_valid("amount_at_least", v) if _non_negative_number(v)

_ciba_field_valid("binding_message", v) if is_string(v)

_fallback_setting_valid if not _has_fallback_setting

_fallback_setting_valid if _whole_seconds(data.stepgate.settings.ciba_fallback_max_age)

_has_fallback_setting if {
	_ = data.stepgate.settings.ciba_fallback_max_age
}

# data_errors explains why data_valid failed, one phrase per problem.
data_errors contains "settings.clock_skew must be a non-negative number of seconds" if {
	not _settings_valid
}

data_errors contains "settings.ciba_fallback_max_age must be a whole number of seconds, 0 or more" if {
	not _fallback_setting_valid
}

data_errors contains sprintf("actions[%q] must be an object", [action_name]) if {
	known_action
	not is_object(config)
}

data_errors contains msg if {
	some k, _ in config
	not _action_fields[k]
	msg := sprintf("actions[%q] has unknown key %q", [action_name, k])
}

data_errors contains msg if {
	some k, v in config
	k != "ciba"
	problem := _action_fields[k]
	not _action_field_valid(k, v)
	msg := sprintf("actions[%q].%s %s", [action_name, k, problem])
}

data_errors contains msg if {
	x := config.ciba
	not is_object(x)
	msg := sprintf("actions[%q].ciba %s", [action_name, _action_fields.ciba])
}

data_errors contains msg if {
	some k, _ in ciba_conf
	not _ciba_fields[k]
	msg := sprintf("actions[%q].ciba has unknown key %q", [action_name, k])
}

data_errors contains msg if {
	some k, v in ciba_conf
	problem := _ciba_fields[k]
	not _ciba_field_valid(k, v)
	msg := sprintf("actions[%q].ciba.%s %s", [action_name, k, problem])
}
