/* The capture rule, written to the kernel as one nftables netlink batch (no `nft` binary):
 *
 *   table ip fence { chain output { type nat hook output priority -100;
 *     meta l4proto tcp ip daddr 127.64.0.0/10 redirect to :<port> } }
 *
 * The batch is atomic: either the table, chain and rule all exist afterwards, or none does. */
#include "nft.h"

/* glibc's headers first: they tell the kernel's which definitions they already made. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NFT_BUF 2048
#define TABLE "fence"
#define CHAIN "output"
#define NAT_DST_PRIORITY (-100) /* NF_IP_PRI_NAT_DST: where DNAT/REDIRECT of locally made packets runs */

struct msg {
  char buf[NFT_BUF];
  size_t len;
  int overflow;
};

static void *put(struct msg *m, const void *data, size_t len) {
  size_t padded = NLMSG_ALIGN(len);
  if (m->len + padded > sizeof m->buf) {
    m->overflow = 1;
    return NULL;
  }
  void *at = m->buf + m->len;
  memset(at, 0, padded);
  if (data) memcpy(at, data, len);
  m->len += padded;
  return at;
}

static size_t attr(struct msg *m, uint16_t type, const void *data, size_t len) {
  struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};
  size_t at = m->len;
  put(m, &a, sizeof a);
  if (len) put(m, data, len);
  return at;
}

static void attr_str(struct msg *m, uint16_t type, const char *s) { attr(m, type, s, strlen(s) + 1); }

static void attr_be32(struct msg *m, uint16_t type, uint32_t v) {
  uint32_t be = htonl(v);
  attr(m, type, &be, sizeof be);
}

/* A nested attribute: returns its offset; nest_end fixes its length once its children are in. */
static size_t nest(struct msg *m, uint16_t type) { return attr(m, type | NLA_F_NESTED, NULL, 0); }

static void nest_end(struct msg *m, size_t at) {
  if (!m->overflow) ((struct nlattr *)(m->buf + at))->nla_len = (uint16_t)(m->len - at);
}

static size_t begin(struct msg *m, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family, uint16_t res_id) {
  struct nlmsghdr h = {.nlmsg_type = type, .nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags), .nlmsg_seq = seq};
  struct nfgenmsg g = {.nfgen_family = family, .version = NFNETLINK_V0, .res_id = htons(res_id)};
  size_t at = m->len;
  put(m, &h, sizeof h);
  put(m, &g, sizeof g);
  return at;
}

static void end(struct msg *m, size_t at) {
  if (!m->overflow) ((struct nlmsghdr *)(m->buf + at))->nlmsg_len = (uint32_t)(m->len - at);
}

static uint16_t nft_type(int msg) { return (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | msg); }

/* One expression of the rule: {name, data: {...}}; returns the data nest to fill. */
static size_t expr_begin(struct msg *m, const char *name, size_t *elem) {
  *elem = nest(m, NFTA_LIST_ELEM);
  attr_str(m, NFTA_EXPR_NAME, name);
  return nest(m, NFTA_EXPR_DATA);
}

static void expr_end(struct msg *m, size_t data, size_t elem) {
  nest_end(m, data);
  nest_end(m, elem);
}

static void data_value(struct msg *m, uint16_t type, const void *v, size_t len) {
  size_t d = nest(m, type);
  attr(m, NFTA_DATA_VALUE, v, len);
  nest_end(m, d);
}

static void cmp_eq(struct msg *m, const void *v, size_t len) {
  size_t elem, d = expr_begin(m, "cmp", &elem);
  attr_be32(m, NFTA_CMP_SREG, NFT_REG_1);
  attr_be32(m, NFTA_CMP_OP, NFT_CMP_EQ);
  data_value(m, NFTA_CMP_DATA, v, len);
  expr_end(m, d, elem);
}

static void rule_exprs(struct msg *m, uint16_t port) {
  size_t list = nest(m, NFTA_RULE_EXPRESSIONS), elem, d;
  /* meta l4proto tcp */
  d = expr_begin(m, "meta", &elem);
  attr_be32(m, NFTA_META_DREG, NFT_REG_1);
  attr_be32(m, NFTA_META_KEY, NFT_META_L4PROTO);
  expr_end(m, d, elem);
  uint8_t tcp = IPPROTO_TCP;
  cmp_eq(m, &tcp, 1);
  /* ip daddr (network header, offset 16, 4 bytes) & mask == prefix */
  d = expr_begin(m, "payload", &elem);
  attr_be32(m, NFTA_PAYLOAD_DREG, NFT_REG_1);
  attr_be32(m, NFTA_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  attr_be32(m, NFTA_PAYLOAD_OFFSET, 16);
  attr_be32(m, NFTA_PAYLOAD_LEN, 4);
  expr_end(m, d, elem);
  uint32_t mask = htonl(CAPTURE_NET_MASK), zero = 0, net = htonl(CAPTURE_NET);
  d = expr_begin(m, "bitwise", &elem);
  attr_be32(m, NFTA_BITWISE_SREG, NFT_REG_1);
  attr_be32(m, NFTA_BITWISE_DREG, NFT_REG_1);
  attr_be32(m, NFTA_BITWISE_LEN, 4);
  data_value(m, NFTA_BITWISE_MASK, &mask, 4);
  data_value(m, NFTA_BITWISE_XOR, &zero, 4);
  expr_end(m, d, elem);
  cmp_eq(m, &net, 4);
  /* redirect to :port (the port in a register, network byte order) */
  uint16_t be_port = htons(port);
  d = expr_begin(m, "immediate", &elem);
  attr_be32(m, NFTA_IMMEDIATE_DREG, NFT_REG_1);
  data_value(m, NFTA_IMMEDIATE_DATA, &be_port, 2);
  expr_end(m, d, elem);
  d = expr_begin(m, "redir", &elem);
  attr_be32(m, NFTA_REDIR_REG_PROTO_MIN, NFT_REG_1);
  expr_end(m, d, elem);
  nest_end(m, list);
}

static void build(struct msg *m, uint16_t port) {
  size_t at;
  uint32_t seq = 1;
  at = begin(m, NFNL_MSG_BATCH_BEGIN, 0, seq++, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  end(m, at);

  at = begin(m, nft_type(NFT_MSG_NEWTABLE), NLM_F_CREATE | NLM_F_ACK, seq++, NFPROTO_IPV4, 0);
  attr_str(m, NFTA_TABLE_NAME, TABLE);
  end(m, at);

  at = begin(m, nft_type(NFT_MSG_NEWCHAIN), NLM_F_CREATE | NLM_F_ACK, seq++, NFPROTO_IPV4, 0);
  attr_str(m, NFTA_CHAIN_TABLE, TABLE);
  attr_str(m, NFTA_CHAIN_NAME, CHAIN);
  size_t hook = nest(m, NFTA_CHAIN_HOOK);
  attr_be32(m, NFTA_HOOK_HOOKNUM, NF_INET_LOCAL_OUT);
  attr_be32(m, NFTA_HOOK_PRIORITY, (uint32_t)NAT_DST_PRIORITY);
  nest_end(m, hook);
  attr_str(m, NFTA_CHAIN_TYPE, "nat");
  end(m, at);

  at = begin(m, nft_type(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq++, NFPROTO_IPV4, 0);
  attr_str(m, NFTA_RULE_TABLE, TABLE);
  attr_str(m, NFTA_RULE_CHAIN, CHAIN);
  rule_exprs(m, port);
  end(m, at);

  at = begin(m, NFNL_MSG_BATCH_END, 0, seq, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  end(m, at);
}

/* Reads the three acknowledgements (table, chain, rule); the first error is the batch's. */
static int read_acks(int fd, struct fence_err *e) {
  char buf[NFT_BUF];
  int acks = 0;
  while (acks < 3) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fence_fail(e, n < 0 ? errno : EPROTO, "nftables: reading the answer");
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      const struct nlmsgerr *err = NLMSG_DATA(h);
      if (err->error != 0) return fence_fail(e, -err->error, "nftables: message %u of the capture rule", h->nlmsg_seq);
      acks++;
    }
  }
  return 0;
}

int nft_add_capture_rule(uint16_t port, struct fence_err *e) {
  struct msg m = {.len = 0};
  build(&m, port);
  if (m.overflow) return fence_fail(e, ENOBUFS, "nftables: building the capture rule");
  /* Talks to the kernel's nftables of this process's network namespace. */
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return fence_fail(e, errno, "nftables: netlink socket");
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int rc = 0;
  if (sendto(fd, m.buf, m.len, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)m.len) rc = fence_fail(e, errno, "nftables: sending the capture rule");
  if (rc == 0) rc = read_acks(fd, e);
  (void)close(fd);
  return rc;
}
