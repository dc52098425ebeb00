/*
 * partition_test.c — the five partitioners (kv/partition): ownership from the
 * key and the node set only, the keys a join or a leave moves (counted key by
 * key against the definition), balance, and scans that need one node.
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/partition.h"

#define KEYS 20000

static const part_kind_t hash_kinds[] = { PART_MOD, PART_RING, PART_JUMP, PART_RENDEZVOUS };
#define HASH_KINDS (sizeof hash_kinds / sizeof hash_kinds[0])

/* Key i: "key" + 8 decimal digits. */
static sl_slice_t key_of(uint64_t i, char *buf)
{
	int n = snprintf(buf, 16, "key%08llu", (unsigned long long)i);
	return sl_slice(buf, (size_t)n);
}

static void make(part_t *p, part_kind_t kind, const uint32_t *ids, uint32_t n, uint32_t vnodes)
{
	sl_err_t err = { 0 };
	int rc = part_init(p, kind, ids, n, NULL, vnodes, 0, &err);
	if (rc != SL_OK)
		fail_msg("part_init %s: %s", part_kind_name(kind), err.msg);
}

/* Owner ids of keys 0..KEYS-1. */
static void owners(const part_t *p, uint32_t *out)
{
	char b[16];
	for (uint64_t i = 0; i < KEYS; i++)
		out[i] = part_owner(p, key_of(i, b));
}

static void test_owner_depends_on_key_and_nodes_only(void **state)
{
	(void)state;
	uint32_t ids[6] = { 10, 3, 77, 5, 200, 1 }, shuffled[6] = { 200, 1, 5, 77, 3, 10 };
	static uint32_t a[KEYS], b[KEYS];
	for (size_t k = 0; k < HASH_KINDS; k++) {
		part_t p, q;
		make(&p, hash_kinds[k], ids, 6, 0);
		make(&q, hash_kinds[k], ids, 6, 0);
		owners(&p, a);
		owners(&q, b);
		assert_memory_equal(a, b, sizeof a);
		part_free(&q);
		/* ring and rendezvous name nodes by id, so the list's order is irrelevant */
		if (hash_kinds[k] == PART_RING || hash_kinds[k] == PART_RENDEZVOUS) {
			make(&q, hash_kinds[k], shuffled, 6, 0);
			owners(&q, b);
			assert_memory_equal(a, b, sizeof a);
			part_free(&q);
		}
		for (uint64_t i = 0; i < KEYS; i++)
			assert_true(part_slot_of(&p, a[i]) >= 0);
		part_free(&p);
	}
}

/* Joins node 100 to n nodes: the share of keys that change owner, checked key by key. */
static double join_moves(part_kind_t kind, uint32_t n, bool *all_to_newcomer)
{
	uint32_t ids[64];
	for (uint32_t i = 0; i < n; i++)
		ids[i] = i;
	part_t p, q;
	sl_err_t err = { 0 };
	make(&p, kind, ids, n, 128);
	assert_int_equal(part_with_node(&p, 100, sl_slice(NULL, 0), &q, &err), SL_OK);
	static uint32_t a[KEYS], b[KEYS];
	owners(&p, a);
	owners(&q, b);
	uint64_t moved = 0;
	*all_to_newcomer = true;
	for (uint64_t i = 0; i < KEYS; i++)
		if (a[i] != b[i]) {
			moved++;
			*all_to_newcomer = *all_to_newcomer && b[i] == 100;
		}
	part_free(&p);
	part_free(&q);
	return (double)moved / KEYS;
}

static void test_join_moves(void **state)
{
	(void)state;
	bool to_new;
	for (uint32_t n = 2; n <= 16; n *= 2) {
		double ideal = 1.0 / (n + 1);
		/* mod moves about n/(n+1) of the keys, most of them between old nodes */
		double mod = join_moves(PART_MOD, n, &to_new);
		assert_true(mod > 0.8 * n / (n + 1.0));
		assert_false(to_new);
		/* the consistent kinds move about 1/(n+1), every one of them to the newcomer */
		for (size_t k = 1; k < HASH_KINDS; k++) {
			double f = join_moves(hash_kinds[k], n, &to_new);
			if (f < 0.6 * ideal || f > 1.5 * ideal || !to_new)
				fail_msg("%s %u->%u: moved %.3f (ideal %.3f), all to the new node: %d",
					 part_kind_name(hash_kinds[k]), n, n + 1, f, ideal, to_new);
		}
	}
}

static void test_leave_moves_only_the_leavers_keys(void **state)
{
	(void)state;
	uint32_t ids[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static uint32_t a[KEYS], b[KEYS];
	sl_err_t err = { 0 };
	for (size_t k = 0; k < HASH_KINDS; k++) {
		part_t p, q;
		make(&p, hash_kinds[k], ids, 8, 0);
		/* jump can only lose its last bucket cleanly; the others any node */
		uint32_t leaver = hash_kinds[k] == PART_JUMP ? 7 : 3;
		assert_int_equal(part_without_node(&p, leaver, &q, &err), SL_OK);
		owners(&p, a);
		owners(&q, b);
		uint64_t moved = 0, wrong = 0;
		for (uint64_t i = 0; i < KEYS; i++) {
			moved += a[i] != b[i];
			wrong += a[i] != b[i] && a[i] != leaver;
			assert_int_not_equal(b[i], leaver);
		}
		if (hash_kinds[k] == PART_MOD)
			assert_true(moved > KEYS / 2); /* renumbering reshuffles nearly everything */
		else
			assert_int_equal(wrong, 0);
		part_free(&p);
		part_free(&q);
	}
}

/* max / mean keys per node for KEYS keys. */
static double imbalance(part_kind_t kind, uint32_t n, uint32_t vnodes)
{
	uint32_t ids[16];
	for (uint32_t i = 0; i < n; i++)
		ids[i] = i * 7 + 1;
	part_t p;
	make(&p, kind, ids, n, vnodes);
	uint64_t per[16] = { 0 }, max = 0;
	char b[16];
	for (uint64_t i = 0; i < KEYS; i++)
		per[part_slot(&p, key_of(i, b))]++;
	for (uint32_t i = 0; i < n; i++)
		max = per[i] > max ? per[i] : max;
	part_free(&p);
	return (double)max * n / KEYS;
}

static void test_balance(void **state)
{
	(void)state;
	assert_true(imbalance(PART_JUMP, 8, 0) < 1.1);
	assert_true(imbalance(PART_RENDEZVOUS, 8, 0) < 1.1);
	assert_true(imbalance(PART_MOD, 8, 0) < 1.1);
	/* more virtual nodes, smaller arcs' spread */
	double one = imbalance(PART_RING, 8, 1), many = imbalance(PART_RING, 8, 512);
	assert_true(many < 1.15);
	assert_true(one > many);
}

/* The jump loop's defining property: going from n to n+1 buckets, a key stays or moves to n. */
static void test_jump_only_moves_to_the_new_bucket(void **state)
{
	(void)state;
	uint32_t ids[33];
	for (uint32_t i = 0; i < 33; i++)
		ids[i] = i;
	char b[16];
	for (uint32_t n = 1; n < 32; n++) {
		part_t p, q;
		make(&p, PART_JUMP, ids, n, 0);
		make(&q, PART_JUMP, ids, n + 1, 0);
		for (uint64_t i = 0; i < 2000; i++) {
			uint32_t x = part_slot(&p, key_of(i, b)), y = part_slot(&q, key_of(i, b));
			assert_true(x < n);
			assert_true(y == x || y == n);
		}
		part_free(&p);
		part_free(&q);
	}
}

static void test_range_split_and_merge(void **state)
{
	(void)state;
	char b[16], s1[16], s2[16];
	sl_slice_t splits[2] = { key_of(5000, s1), key_of(12000, s2) };
	uint32_t ids[3] = { 0, 1, 2 };
	part_t p, q, r;
	sl_err_t err = { 0 };
	assert_int_equal(part_init(&p, PART_RANGE, ids, 3, splits, 0, 0, &err), SL_OK);
	for (uint64_t i = 0; i < KEYS; i++)
		assert_int_equal(part_owner(&p, key_of(i, b)), i < 5000 ? 0 : i < 12000 ? 1 : 2);
	/* node 9 takes [8000, 12000) from node 1; nothing else moves */
	char s3[16];
	assert_int_equal(part_with_node(&p, 9, key_of(8000, s3), &q, &err), SL_OK);
	for (uint64_t i = 0; i < KEYS; i++) {
		uint32_t want = i < 5000 ? 0 : i < 8000 ? 1 : i < 12000 ? 9 : 2;
		assert_int_equal(part_owner(&q, key_of(i, b)), want);
	}
	/* a split where a range already starts is refused */
	part_t bad;
	assert_int_equal(part_with_node(&q, 10, key_of(8000, s3), &bad, &err), SL_INVALID);
	/* node 0 leaves: its keys go to the next range (node 1); node 2 leaving gives 9 its keys */
	assert_int_equal(part_without_node(&q, 0, &r, &err), SL_OK);
	for (uint64_t i = 0; i < KEYS; i++)
		assert_int_equal(part_owner(&r, key_of(i, b)), part_owner(&q, key_of(i, b)) == 0
				 ? 1 : part_owner(&q, key_of(i, b)));
	part_free(&r);
	assert_int_equal(part_without_node(&q, 2, &r, &err), SL_OK);
	for (uint64_t i = 12000; i < KEYS; i++)
		assert_int_equal(part_owner(&r, key_of(i, b)), 9);
	part_free(&r);
	part_free(&q);
	part_free(&p);
}

/* part_single_owner against brute force: when it says one node, every key in range agrees. */
static void test_single_owner(void **state)
{
	(void)state;
	uint32_t ids[5] = { 0, 1, 2, 3, 4 };
	sl_err_t err = { 0 };
	part_t hashed, ranged;
	assert_int_equal(part_init(&hashed, PART_RING, ids, 5, NULL, 0, 2, &err), SL_OK);
	uint8_t sk[4][1] = { { 0x40 }, { 0x80 }, { 0xc0 }, { 0xff } };
	sl_slice_t splits[4] = { sl_slice(sk[0], 1), sl_slice(sk[1], 1), sl_slice(sk[2], 1),
				 sl_slice(sk[3], 1) };
	assert_int_equal(part_init(&ranged, PART_RANGE, ids, 5, splits, 0, 0, &err), SL_OK);
	tu_rng_t rng;
	tu_rng_init(&rng, tu_seed());
	const part_t *parts[2] = { &hashed, &ranged };
	uint64_t said_one = 0;
	for (int round = 0; round < 4000; round++) {
		/* keys of 3 bytes over a tiny alphabet (0x00, 0x7f, 0xfe, 0xff), so ranges are enumerable */
		static const uint8_t alpha[4] = { 0x00, 0x7f, 0xfe, 0xff };
		uint8_t a[8] = { 0 }, z[8] = { 0 }; /* 8: sl_slice_cmp may read words */
		size_t alen = 1 + tu_below(&rng, 3), zlen = 1 + tu_below(&rng, 3);
		for (int i = 0; i < 3; i++) {
			a[i] = alpha[tu_below(&rng, 4)];
			z[i] = alpha[tu_below(&rng, 4)];
		}
		sl_slice_t start = sl_slice(a, alen), end = sl_slice(z, zlen);
		const part_t *p = parts[round & 1];
		if (sl_slice_cmp(start, end) >= 0 || !part_single_owner(p, &start, &end))
			continue;
		said_one++;
		uint32_t owner = part_slot(p, start);
		/* every key of 1 to 3 bytes over a wider alphabet that falls in [start, end) */
		static const uint8_t wide[7] = { 0x00, 0x40, 0x7f, 0x80, 0xc0, 0xfe, 0xff };
		for (uint32_t code = 0; code < 7 * 7 * 7; code++) {
			uint8_t kb[8] = { wide[code % 7], wide[code / 7 % 7], wide[code / 49] };
			for (size_t len = 1; len <= 3; len++) {
				sl_slice_t key = sl_slice(kb, len);
				if (sl_slice_cmp(key, start) >= 0 && sl_slice_cmp(key, end) < 0)
					assert_int_equal(part_slot(p, key), owner);
			}
		}
	}
	assert_true(said_one > 50);
	/* an unbounded scan, or one across partition keys, needs every node */
	sl_slice_t s = sl_slice("ab", 2), e = sl_slice("ac", 2), e2 = sl_slice("abz", 3);
	assert_false(part_single_owner(&hashed, &s, NULL));
	assert_true(part_single_owner(&hashed, &s, &e2));
	assert_true(part_single_owner(&hashed, &s, &e));
	sl_slice_t s3 = sl_slice("ab", 2), e3 = sl_slice("ad", 2);
	assert_false(part_single_owner(&hashed, &s3, &e3));
	part_free(&hashed);
	part_free(&ranged);
}

static void test_bad_parameters(void **state)
{
	(void)state;
	part_t p;
	sl_err_t err = { 0 };
	uint32_t twice[3] = { 1, 2, 1 }, ids[2] = { 1, 2 };
	assert_int_equal(part_init(&p, PART_RING, twice, 3, NULL, 0, 0, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "listed twice"));
	assert_int_equal(part_init(&p, PART_MOD, ids, 0, NULL, 0, 0, &err), SL_INVALID);
	assert_int_equal(part_init(&p, PART_RING, ids, 2, NULL, PART_MAX_VNODES + 1, 0, &err),
			 SL_INVALID);
	assert_int_equal(part_init(&p, PART_MOD, ids, 2, NULL, 0, PART_MAX_PKEY + 1, &err),
			 SL_INVALID);
	assert_int_equal(part_init(&p, PART_RANGE, ids, 2, NULL, 0, 0, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "split keys"));
	assert_int_equal(part_init(&p, (part_kind_t)9, ids, 2, NULL, 0, 0, &err), SL_INVALID);
	part_kind_t k;
	assert_int_equal(part_kind_parse("consistent", &k), SL_INVALID);
	assert_int_equal(part_kind_parse("jump", &k), SL_OK);
	assert_int_equal(k, PART_JUMP);
	uint32_t one = 4;
	assert_int_equal(part_init(&p, PART_JUMP, &one, 1, NULL, 0, 0, &err), SL_OK);
	part_t q;
	assert_int_equal(part_without_node(&p, 4, &q, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "only node"));
	assert_int_equal(part_without_node(&p, 5, &q, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "not a member"));
	part_free(&p);
}

int main(void)
{
	tu_seed();
	tu_filter();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_depends_on_key_and_nodes_only),
		cmocka_unit_test(test_join_moves),
		cmocka_unit_test(test_leave_moves_only_the_leavers_keys),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_jump_only_moves_to_the_new_bucket),
		cmocka_unit_test(test_range_split_and_merge),
		cmocka_unit_test(test_single_owner),
		cmocka_unit_test(test_bad_parameters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
