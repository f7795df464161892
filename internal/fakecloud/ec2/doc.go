// Package ec2 is a stateful fake of the Amazon EC2 Query API for tests and local runs: an HTTP server
// that takes the form-encoded requests aws-sdk-go-v2 sends and answers in EC2's real XML wire format,
// errors included (<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>…).
//
// It keeps instances, key pairs, security groups with their ingress and egress rules, EBS volumes and
// their attachments, tags, and a small catalogue of AMIs in memory. State changes take time, as on
// EC2: an instance is pending before it is running, stopping before stopped and shutting-down before
// terminated; a volume is creating before available, attaching before attached, and a ModifyVolume goes
// modifying → optimizing → completed (DescribeVolumesModifications), refusing to shrink a volume or to
// modify it again within six hours. RunInstances takes block device mappings (the root volume and blank
// extra volumes) and a primary network interface (subnet, private address, public address or not), and honours
// ClientToken, so a retried launch returns the first launch's instance; DescribeInstances, DescribeVolumes
// and the other Describe actions take EC2's filters (client-token, instance-state-name, tag:KEY, …).
//
// Tests inject faults with Server.Inject: an error code answered N times (RequestLimitExceeded for
// throttling), optionally after the work was done (a lost response), and latency per action. One
// Server is safe for concurrent use.
package ec2
