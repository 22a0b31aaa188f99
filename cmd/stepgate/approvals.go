package main

import "github.com/stepgate/stepgate/admin/approval"

// approvals is the four-eyes service when admin.require_approval is set,
// else nil.
func (a *app) approvals() (*approval.Service, error) {
	if !a.cfg.Admin.RequireApproval {
		return nil, nil
	}
	return approval.New(approval.Config{Store: a.store, Policies: a.policies, Recorder: a.policies.Recorder(), TTL: a.cfg.Admin.ApprovalTTL})
}
