// Package pack is the policy pack: the rules of policy/rules as Pulumi CrossGuard stack
// policies (the Go SDK, policyx), judging the resources the real engine plans at preview and
// records at update, with the values the providers computed.
package pack
