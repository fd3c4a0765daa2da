// Command swarm-recover does the two parts of a restore that dockerd cannot do, with Docker's
// own swarmkit. Both read the unlock key (SWMKEY-1-…) from stdin when the state is autolocked,
// never from argv, and never print it.
//
//	swarm-recover open <swarm-dir>
//	  Takes the unlock key's encryption off a manager's state (its TLS key, and the Raft data key
//	  in that key's PEM headers), as a manager does itself when autolock is turned off. dockerd
//	  cannot run `swarm init --force-new-cluster` on a locked state: its unlock waits for the old
//	  managers, and its init starts the node without the key (moby/moby#36852). The KEK version
//	  written is 0, lower than the cluster object's, so once `init --force-new-cluster --autolock`
//	  makes the node lead, it encrypts its key again with the cluster's key: the archive's.
//
//	swarm-recover readdress <swarm-dir> <host:port> [<control-socket>]
//	  Sets this manager's Raft address to <host:port>. A restored manager keeps the address of the
//	  host the archive was taken on, and hands it to every node that joins: new managers then
//	  cannot reach the leader and the quorum breaks. dockerd never updates it. swarmkit's leader
//	  does, when a member calls Join with a new address, so this calls Join on the node itself,
//	  as that member (with its own node certificate), once the node leads. A manager joining later
//	  would still replay the old log, whose membership entries name the old address, and answer
//	  the leader there; so this then has the leader take a snapshot and drop the log before it
//	  (through the local control socket, Raft settings put back after), and joiners start from it.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/swarmkit/v2/api"
	"github.com/moby/swarmkit/v2/ca"
	"github.com/moby/swarmkit/v2/manager"
	"github.com/moby/swarmkit/v2/manager/encryption"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/grpclog"
)

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "swarm-recover: error: "+format+"\n", a...)
	os.Exit(1)
}

// unlockKey reads the key from stdin; empty stdin means the state is not locked.
func unlockKey(required bool) []byte {
	line, err := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fail("could not read the unlock key from stdin: %v", err)
	}
	line = strings.TrimSpace(line)
	if line == "" && !required {
		return nil
	}
	kek, err := encryption.ParseHumanReadableKey(line)
	if err != nil {
		fail("stdin holds no unlock key (SWMKEY-1-…); pipe the key of the archive's unlock-key version")
	}
	return kek
}

// nodeKey opens the node's TLS key with the KEK; a wrong key names its fix.
func nodeKey(dir string, kek []byte, headers ca.PEMKeyHeaders) (*ca.KeyReadWriter, []byte, []byte) {
	paths := ca.NewConfigPaths(filepath.Join(dir, "certificates")).Node
	if _, err := os.Stat(paths.Key); err != nil {
		fail("%s has no swarm node key (%v); pass the swarm directory of a manager", dir, err)
	}
	krw := ca.NewKeyReadWriter(paths, kek, headers)
	cert, key, err := krw.Read()
	if err != nil {
		var invalid ca.ErrInvalidKEK
		if errors.As(err, &invalid) {
			fail("the unlock key does not open %s: it is not the key of this state's time; take the secret version the archive records", paths.Key)
		}
		fail("could not read %s: %v", paths.Key, err)
	}
	return krw, cert, key
}

func open(dir string) {
	krw, _, _ := nodeKey(dir, unlockKey(true), manager.RaftDEKData{})
	err := krw.ViewAndRotateKEK(func(_ ca.KEKData, headers ca.PEMKeyHeaders) (ca.KEKData, ca.PEMKeyHeaders, error) {
		return ca.KEKData{}, headers, nil
	})
	if err != nil {
		fail("could not re-write the node key of %s without the unlock key: %v", dir, err)
	}
	fmt.Fprintf(os.Stderr, "swarm-recover: %s no longer needs the unlock key\n", dir)
}

func readdress(dir, addr, control string) {
	_, certPEM, keyPEM := nodeKey(dir, unlockKey(false), nil)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		fail("the node certificate of %s does not match its key: %v", dir, err)
	}
	rootPEM, err := os.ReadFile(filepath.Join(dir, "certificates", "swarm-root-ca.crt"))
	if err != nil {
		fail("could not read the swarm's root CA in %s: %v", dir, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(rootPEM) {
		fail("the swarm's root CA in %s is not a PEM certificate", dir)
	}
	tlsConfig, err := ca.NewClientTLSConfig([]tls.Certificate{pair}, pool, ca.ManagerRole)
	if err != nil {
		fail("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)))
	if err != nil {
		fail("could not reach the manager at %s: %v", addr, err)
	}
	defer conn.Close()
	// The node answers Join only as the leader; right after `init --force-new-cluster` it may
	// still be electing itself, so this retries until the deadline.
	var last, first error
	start := time.Now()
	for attempt := 1; ctx.Err() == nil; attempt++ {
		_, last = api.NewRaftMembershipClient(conn).Join(ctx, &api.JoinRequest{Addr: addr})
		if last == nil {
			joined := time.Since(start)
			compactLog(ctx, dir, control, tlsConfig)
			note := ""
			if first != nil {
				note = fmt.Sprintf("; %d attempt(s), the first refused: %v", attempt, first)
			}
			fmt.Fprintf(os.Stderr, "swarm-recover: the manager's Raft address is %s (in %.1fs), in a fresh snapshot with no log before it (%.1fs)%s\n",
				addr, joined.Seconds(), time.Since(start).Seconds(), note)
			return
		}
		if first == nil {
			first = last
		}
		time.Sleep(500 * time.Millisecond)
	}
	fail("the manager at %s did not take its new Raft address within 60s: %v", addr, last)
}

// newestSnapshot is the name of the newest Raft snapshot file, or "".
func newestSnapshot(dir string) string {
	names, _ := filepath.Glob(filepath.Join(dir, "raft", "snap-v3-encrypted", "*.snap"))
	newest := ""
	for _, n := range names {
		if n > newest {
			newest = n
		}
	}
	return newest
}

// compactLog makes the leader snapshot now and keep no log entries before the snapshot, then
// puts the cluster's Raft settings back.
func compactLog(ctx context.Context, dir, control string, tlsConfig *tls.Config) {
	// The control socket speaks TLS with the node's own certificate, like the remote API.
	conn, err := grpc.DialContext(ctx, "unix://"+control, grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig.Clone())))
	if err != nil {
		fail("could not reach the control socket %s: %v", control, err)
	}
	defer conn.Close()
	c := api.NewControlClient(conn)
	update := func(set func(*api.RaftConfig)) *api.Cluster {
		list, err := c.ListClusters(ctx, &api.ListClustersRequest{})
		if err != nil || len(list.Clusters) != 1 {
			fail("could not read the cluster through %s: %v", control, err)
		}
		cl := list.Clusters[0]
		spec := cl.Spec.Copy()
		set(&spec.Raft)
		resp, err := c.UpdateCluster(ctx, &api.UpdateClusterRequest{ClusterID: cl.ID, ClusterVersion: &cl.Meta.Version, Spec: spec})
		if err != nil {
			fail("could not update the cluster's Raft settings: %v", err)
		}
		return resp.Cluster
	}
	before := newestSnapshot(dir)
	var orig api.RaftConfig
	update(func(r *api.RaftConfig) { orig = *r; r.SnapshotInterval = 1; r.LogEntriesForSlowFollowers = 0 })
	// The leader decides to snapshot when it applies an entry, and reads the interval before the
	// entry that changed it is applied: each further write of the same spec is one more entry.
	for newestSnapshot(dir) == before {
		if ctx.Err() != nil {
			fail("no new Raft snapshot appeared in %s; put back SnapshotInterval %d and LogEntriesForSlowFollowers %d by hand", dir, orig.SnapshotInterval, orig.LogEntriesForSlowFollowers)
		}
		time.Sleep(200 * time.Millisecond)
		if newestSnapshot(dir) == before {
			update(func(*api.RaftConfig) {})
		}
	}
	update(func(r *api.RaftConfig) { r.SnapshotInterval = orig.SnapshotInterval; r.LogEntriesForSlowFollowers = orig.LogEntriesForSlowFollowers })
}

func main() {
	// swarmkit routes gRPC's connection chatter to its logger; this tool prints one line.
	grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard))
	switch {
	case len(os.Args) == 3 && os.Args[1] == "open":
		open(os.Args[2])
	case len(os.Args) == 4 && os.Args[1] == "readdress":
		readdress(os.Args[2], os.Args[3], "/run/docker/swarm/control.sock")
	case len(os.Args) == 5 && os.Args[1] == "readdress":
		readdress(os.Args[2], os.Args[3], os.Args[4])
	default:
		fail("usage: swarm-recover open <swarm-dir> | readdress <swarm-dir> <host:port> (the unlock key, if any, on stdin)")
	}
}
