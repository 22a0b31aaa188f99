package stepgate.search

# Candidates for AuthZEN search, with the attributes the fixture gives them;
# data.stepgate.decision picks the results.

subjects contains {"type": "user", "id": id, "properties": object.get(u, "properties", {})} if {
	some id, u in data.certification.users
}

resources contains {"type": "record", "id": id, "properties": {"status": r.status}} if {
	some id, r in data.certification.records
}

actions contains {"name": name} if some name in data.certification.actions
