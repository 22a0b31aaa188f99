// Package readiness decides what the decision API's /readyz answers. A
// Prober keeps four checks, each with its state and since when it holds:
//
//   - policy: a policy revision is active (read live from the engine);
//   - database: the store answered its last ping. The prober pings every
//     Interval (5s) while everything is healthy, and every FailingInterval
//     (1s) while anything fails, so a replica taken out of a load balancer
//     comes back by itself when the store does, with no traffic to heal it;
//   - audit: the audit writer's last commit succeeded (read live). A sync
//     writer only learns that the store is back when a record commits, so
//     while it reports an error and the store answers pings, the prober
//     writes one small record through it (Config.ProveAudit): its commit
//     is the proof, and clears the error;
//   - policy_evaluations: not every recent evaluation failed. The decision
//     path reports each decision and each policy error (a Prober is a
//     pdp.Observer: one atomic add each); the prober samples the two
//     counters and fails the check when, within PolicyWindow (1m), at least
//     PolicyMinErrors (20) evaluations failed and no more decisions than
//     errors were made, i.e. every answer was a fail-closed deny. The
//     evidence is per revision (a new active revision starts afresh from
//     the last round before it was seen) and expires with the window, so a replica that got no traffic since is
//     ready again and tries once more: a policy that errors on everything
//     flaps at the window's pace instead of hiding, and a burst of
//     timeouts under overload does not keep a replica out for good.
//     A synthetic smoke evaluation was rejected as the signal: no one input
//     proves a policy works for real ones, and a false alarm would take
//     every replica out at once.
//
// cmd/stepgate wires it: the store, the audit writer, the engine, and the
// decision observer; pdphttp renders Report as JSON.
package readiness
