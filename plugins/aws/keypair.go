package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provhq/prov/sdk"
)

func keyPairResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "An EC2 key pair imported from an OpenSSH public key; its id is the key name. EC2 keeps no " +
			"comment of the key: prov records it in the tag prov:public-key-comment, and a key pair imported with " +
			"prov import has none, so configure its public_key without a comment.",
		Attributes: map[string]*sdk.Attribute{
			"key_name": {Type: sdk.String, Required: true, ForceNew: true, Validators: []sdk.Validator{sdk.LengthBetween(1, 255)}, Description: "Name of the key pair."},
			"public_key": {Type: sdk.String, Required: true, ForceNew: true, Validators: []sdk.Validator{sdk.Regexp(`^(ssh-ed25519|ssh-rsa) [A-Za-z0-9+/=]+`)},
				Description: "OpenSSH public key, e.g. the content of ~/.ssh/id_ed25519.pub."},
			"tags":        {Type: sdk.MapOf(sdk.String), Optional: true, Description: "Tags of the key pair."},
			"key_pair_id": {Type: sdk.String, Computed: true, Description: "EC2's id of the key pair (key-…)."},
			"fingerprint": {Type: sdk.String, Computed: true, Description: "Fingerprint of the public key as EC2 computes it."},
			"key_type":    {Type: sdk.String, Computed: true, Description: "rsa or ed25519."},
			"arn":         {Type: sdk.String, Computed: true, Description: "ARN of the key pair."},
		},
		Create: createKeyPair,
		Read:   readKeyPair,
		Update: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
			c, err := clientOf(op)
			if err != nil {
				return err
			}
			id, _ := d.Old("key_pair_id").(string)
			if err := updateTags(ctx, c, id, d); err != nil {
				return err
			}
			return readKeyPair(ctx, op, d)
		},
		Delete: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
			c, err := clientOf(op)
			if err != nil {
				return err
			}
			if _, err := c.ec2.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(d.ID())}); err != nil && !notFound(err) {
				return apiError(err)
			}
			return nil
		},
		Import: readKeyPair,
		Plan:   keepOnUpdate(nil, "key_pair_id", "fingerprint", "key_type", "arn"),
	}
}

// commentTag keeps the comment of an imported public key, which EC2 drops, so that a key read back
// (to settle a create in doubt) is the key as configured.
const commentTag = "prov:public-key-comment"

func createKeyPair(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	name := d.String("key_name")
	if err := c.importKey(ctx, name, d.String("public_key"), d.StringMap("tags"), op.ID); err != nil {
		return sdk.AttrError("key_name", err)
	}
	d.SetID(name)
	return readKeyPair(ctx, op, d)
}

// importKey imports publicKey as key pair name, tagged with tags, operation opID and prov's own tags
// (key, value pairs). A retried import
// whose first attempt got through finds its own key (tagged with this operation); anybody else's key of
// that name is a conflict.
func (c *client) importKey(ctx context.Context, name, publicKey string, tags map[string]string, opID string, own ...string) error {
	if f := strings.Fields(publicKey); len(f) > 2 {
		own = append(own, commentTag, strings.Join(f[2:], " "))
	}
	_, err := c.ec2.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String(name), PublicKeyMaterial: []byte(publicKey),
		TagSpecifications: tagSpec(types.ResourceTypeKeyPair, tags, opID, own...)})
	if errorCode(err) == "InvalidKeyPair.Duplicate" {
		k, derr := c.describeKeyPair(ctx, name)
		if derr != nil || k == nil || tagValue(k.Tags, OperationTag) != opID {
			return apiError(err)
		}
		return nil
	}
	if err != nil {
		return apiError(err)
	}
	return nil
}

func (c *client) describeKeyPair(ctx context.Context, name string) (*types.KeyPairInfo, error) {
	out, err := c.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{name}, IncludePublicKey: aws.Bool(true)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, apiError(err)
	}
	if len(out.KeyPairs) == 0 {
		return nil, nil
	}
	return &out.KeyPairs[0], nil
}

func readKeyPair(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	var k *types.KeyPairInfo
	if d.ID() == "" && op.ID != "" {
		out, err := c.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{IncludePublicKey: aws.Bool(true),
			Filters: []types.Filter{{Name: aws.String("tag:" + OperationTag), Values: []string{op.ID}}}})
		if err != nil {
			return apiError(err)
		}
		if len(out.KeyPairs) > 0 {
			k = &out.KeyPairs[0]
		}
	} else if k, err = c.describeKeyPair(ctx, d.ID()); err != nil {
		return err
	}
	if k == nil {
		return sdk.ErrNotFound
	}
	name := aws.ToString(k.KeyName)
	d.SetID(name)
	d.Set("key_name", name)
	// EC2 returns the key without its comment: keep the configured text when the key is the same, and
	// put back the comment prov recorded when there is no configured text.
	if pk := aws.ToString(k.PublicKey); !sameKey(d.String("public_key"), pk) {
		if comment := tagValue(k.Tags, commentTag); comment != "" {
			pk += " " + comment
		}
		d.Set("public_key", pk)
	}
	d.Set("tags", tagMap(k.Tags))
	d.Set("key_pair_id", aws.ToString(k.KeyPairId))
	d.Set("fingerprint", aws.ToString(k.KeyFingerprint))
	d.Set("key_type", string(k.KeyType))
	d.Set("arn", fmt.Sprintf("arn:aws:ec2:%s::key-pair/%s", c.region, aws.ToString(k.KeyPairId)))
	return nil
}

// sameKey reports whether two OpenSSH public keys are the same key, whatever their comments.
func sameKey(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	return len(fa) >= 2 && len(fb) >= 2 && fa[0] == fb[0] && fa[1] == fb[1]
}

func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
