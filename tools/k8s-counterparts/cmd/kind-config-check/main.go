// Command kind-config-check reads a kind cluster config on stdin and decodes it the way
// `kind create cluster --config` does (sigs.k8s.io/kind v0.30.0,
// pkg/internal/apis/config/encoding.Parse): apiVersion and kind first, then a strict decode
// into the public v1alpha4 types (go.yaml.in/yaml/v3 with KnownFields: an unknown or misspelt
// field is an error, as is a wrong type), then kind's defaults. kind's own Validate lives in an
// internal package that no other module may import, so the checks it makes on what the program
// generates (cluster name, node roles and images, port numbers, duplicate host port bindings,
// at least one control plane) are repeated below, with kind's wording.
//
// Exit 0 and the defaulted config as JSON on stdout when kind would accept it; exit 1 and the
// error on stderr when it would not; exit 2 when stdin cannot be read.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"

	yaml "go.yaml.in/yaml/v3"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

const (
	apiVersion = "kind.x-k8s.io/v1alpha4"
	kind       = "Cluster"
)

// kind's validNameRE (pkg/internal/apis/config/validate.go).
var validName = regexp.MustCompile(`^[a-z0-9.-]+$`)

type typeMeta struct {
	Kind       string `yaml:"kind,omitempty"`
	APIVersion string `yaml:"apiVersion,omitempty"`
}

func decode(raw []byte) (*v1alpha4.Cluster, error) {
	meta := typeMeta{}
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("could not determine kind / apiVersion for config: %w", err)
	}
	if meta.APIVersion != apiVersion {
		return nil, fmt.Errorf("unknown apiVersion: %s", meta.APIVersion)
	}
	if meta.Kind != kind {
		return nil, fmt.Errorf("unknown kind %s for apiVersion: %s", meta.Kind, meta.APIVersion)
	}
	cluster := &v1alpha4.Cluster{}
	decoder := yaml.NewDecoder(bytes.NewReader(raw))
	decoder.KnownFields(true)
	if err := decoder.Decode(cluster); err != nil {
		return nil, fmt.Errorf("unable to decode config: %w", err)
	}
	var extra any
	if err := decoder.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("unable to decode config: more than one YAML document")
	}
	v1alpha4.SetDefaultsCluster(cluster)
	return cluster, nil
}

func validPort(port int32) bool { return port >= -1 && port <= 65535 }

func validate(cluster *v1alpha4.Cluster) []error {
	var problems []error
	if !validName.MatchString(cluster.Name) {
		problems = append(problems, fmt.Errorf(
			"'%s' is not a valid cluster name, cluster names must match `%s`",
			cluster.Name, validName.String()))
	}
	controlPlanes := 0
	for i, node := range cluster.Nodes {
		switch node.Role {
		case v1alpha4.ControlPlaneRole:
			controlPlanes++
		case v1alpha4.WorkerRole:
		default:
			problems = append(problems, fmt.Errorf(
				"invalid configuration for node %d: %q is not a valid node role", i, node.Role))
		}
		if node.Image == "" {
			problems = append(problems, fmt.Errorf(
				"invalid configuration for node %d: image is a required field", i))
		}
		bound := map[string]bool{}
		for _, mapping := range node.ExtraPortMappings {
			if !validPort(mapping.HostPort) {
				problems = append(problems, fmt.Errorf(
					"invalid configuration for node %d: invalid hostPort: invalid port number: %d",
					i, mapping.HostPort))
			}
			if !validPort(mapping.ContainerPort) {
				problems = append(problems, fmt.Errorf(
					"invalid configuration for node %d: invalid containerPort: invalid port number: %d",
					i, mapping.ContainerPort))
			}
			address := net.ParseIP(mapping.ListenAddress)
			if address == nil {
				problems = append(problems, fmt.Errorf(
					"invalid configuration for node %d: listenAddress %q is not an IP address",
					i, mapping.ListenAddress))
				continue
			}
			if mapping.HostPort == -1 || mapping.HostPort == 0 {
				continue // a random port: duplicates are allowed
			}
			if address.Equal(net.IPv6unspecified) {
				address = net.IPv4zero
			}
			key := fmt.Sprintf("%d/%s", mapping.HostPort, mapping.Protocol)
			wildcard := net.IPv4zero.String() + " " + key
			if bound[address.String()+" "+key] || bound[wildcard] ||
				(address.Equal(net.IPv4zero) && bound["any "+key]) {
				problems = append(problems, fmt.Errorf(
					"invalid configuration for node %d: invalid portMapping: port mapping with same "+
						"listen address, port and protocol already configured: %s:%s",
					i, address, key))
			}
			bound[address.String()+" "+key] = true
			bound["any "+key] = true
		}
	}
	if controlPlanes < 1 {
		problems = append(problems, errors.New("must have at least one control-plane node"))
	}
	return problems
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kind-config-check: cannot read stdin: %v\n", err)
		os.Exit(2)
	}
	cluster, err := decode(raw)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kind-config-check: %v\n", err)
		os.Exit(1)
	}
	if problems := validate(cluster); len(problems) > 0 {
		for _, problem := range problems {
			fmt.Fprintf(os.Stderr, "kind-config-check: %v\n", problem)
		}
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(cluster); err != nil {
		fmt.Fprintf(os.Stderr, "kind-config-check: %v\n", err)
		os.Exit(2)
	}
}
