# A small step-up policy as a new user writes it: straight from the token's
# claims and input.now, without stepgate's normalised subject.authn and
# without declaring how long a decision stays valid.
package stepgate

default decision := {"decision": "deny", "reasons": ["action not permitted"]}

# Everyday actions any signed-in user may take.
everyday := {"profile.view", "profile.update", "orders.list"}

billing if startswith(input.action.name, "billing.")

# Billing needs an mfa amr within the last 15 minutes.
fresh_mfa if {
	"mfa" in input.subject.claims.amr
	input.now - input.subject.claims.auth_time <= 900
}

decision := {"decision": "allow", "reasons": ["billing with mfa in the last 15 minutes"]} if {
	billing
	fresh_mfa
}

decision := {
	"decision": "step_up",
	"reasons": ["billing needs mfa within 15 minutes"],
	"requirements": {"amr_any": ["mfa"], "max_age": 900},
} if {
	billing
	not fresh_mfa
}

decision := {"decision": "allow", "reasons": [sprintf("%s is an everyday action", [input.action.name])]} if {
	input.action.name in everyday
}
