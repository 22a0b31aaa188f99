package stepgate

# The authentication facts come from input.subject.authn, which stepgate
# normalises across IdP dialects. Anything missing or malformed counts as the
# weakest possible authentication, never as a stronger one.

authn := a if {
	a := input.subject.authn
	is_object(a)
} else := {}

# methods are the token's amr values (RFC 8176); Go marshals an empty list as
# null, and non-strings are dropped.
methods := [m | some m in authn.methods; is_string(m)] if {
	is_array(authn.methods)
} else := []

# mfa is stepgate's verdict: amr contains mfa, or acr is one of the issuer's
# MFA acr values (Keycloak-style tokens carry no amr at all).
mfa if authn.mfa == true

acr := a if {
	a := authn.acr
	is_string(a)
} else := ""

# auth_age is how many seconds ago the user last authenticated; undefined when
# the token had no auth_time, so a freshness requirement can never be met.
auth_age := a if {
	a := authn.age
	is_number(a)
} else := a if {
	t := authn.auth_time
	is_number(t)
	is_number(input.now)
	a := input.now - t
}

# clock_skew is how far (seconds) auth_time may lie in the future before the
# token is treated as forged or the IdP's clock as broken.
default clock_skew := 60

clock_skew := s if {
	s := data.stepgate.settings.clock_skew
	_non_negative_number(s)
}

auth_in_future if auth_age < 0 - clock_skew

_non_negative_number(x) if {
	is_number(x)
	x >= 0
}

_string_list(x) if {
	is_array(x)
	every e in x {
		is_string(e)
	}
}
