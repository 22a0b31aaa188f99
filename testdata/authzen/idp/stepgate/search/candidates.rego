package stepgate.search

# Candidates for AuthZEN search; data.stepgate.decision picks the results.
# The record owners are the only users this scenario knows.

subjects contains {"type": "user", "id": r.owner} if some r in data.idp.records

resources contains {"type": "record", "id": r.id} if some r in data.idp.records

actions contains {"name": name} if some name in ["view", "edit", "delete"]
