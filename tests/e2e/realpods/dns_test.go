//go:build realpods

package realpods

import (
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
)

// clusterDNS answers the pods' lookups of <service>.<namespace>.svc.cluster.local from the API
// server (ClusterIP, or the ready endpoints of a headless Service), as CoreDNS would: the
// kubelet points every pod's resolv.conf at it. Nothing else is resolved.
type clusterDNS struct {
	k    *kubeclient.Client
	conn net.PacketConn
}

const clusterDomain = "svc.cluster.local."

func startClusterDNS(k *kubeclient.Client, addr string) (*clusterDNS, error) {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	d := &clusterDNS{k: k, conn: conn}
	go d.serve()
	return d, nil
}

func (d *clusterDNS) Close() error { return d.conn.Close() }

func (d *clusterDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, ok := d.answer(buf[:n]); ok {
			_, _ = d.conn.WriteTo(resp, from)
		}
	}
}

func (d *clusterDNS) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RCode: dnsmessage.RCodeNameError}
	ips, known := d.lookup(strings.ToLower(q.Name.String()))
	if known {
		rh.RCode = dnsmessage.RCodeSuccess
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, false
	}
	if err := b.Question(q); err != nil {
		return nil, false
	}
	if err := b.StartAnswers(); err != nil {
		return nil, false
	}
	if q.Type == dnsmessage.TypeA {
		for _, ip := range ips {
			if err := b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 5},
				dnsmessage.AResource{A: ip.As4()}); err != nil {
				return nil, false
			}
		}
	}
	out, err := b.Finish()
	return out, err == nil
}

// lookup resolves <service>.<namespace>.svc.cluster.local.; known is false for any other name.
func (d *clusterDNS) lookup(name string) (ips []netip.Addr, known bool) {
	rest, ok := strings.CutSuffix(name, "."+clusterDomain)
	if !ok {
		return nil, false
	}
	svc, ns, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(ns, ".") {
		return nil, false
	}
	var s kubeclient.Object
	if found, err := d.k.Get("/api/v1/namespaces/"+ns+"/services/"+svc, &s); err != nil || !found {
		return nil, false
	}
	if ip := s.Str("spec", "clusterIP"); ip != "None" {
		if a, err := netip.ParseAddr(ip); err == nil {
			return []netip.Addr{a}, true
		}
		return nil, true
	}
	var slices kubeclient.List
	if _, err := d.k.Get("/apis/discovery.k8s.io/v1/namespaces/"+ns+"/endpointslices?labelSelector=kubernetes.io/service-name%3D"+svc, &slices); err != nil {
		return nil, true
	}
	for _, sl := range slices.Items {
		eps, _ := sl["endpoints"].([]any)
		for _, e := range eps {
			ep := kubeclient.Object(e.(map[string]any))
			if ready, ok := ep.Path("conditions", "ready").(bool); ok && !ready {
				continue
			}
			for _, a := range ep.Path("addresses").([]any) {
				if ip, err := netip.ParseAddr(a.(string)); err == nil {
					ips = append(ips, ip)
				}
			}
		}
	}
	return ips, true
}
