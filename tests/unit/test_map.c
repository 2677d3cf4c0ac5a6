/* test_map.c: the intrusive hash map: insert, find, remove, keys compared by
 * length and bytes, and growth with thousands of keys (the load stays at or
 * under one node a slot). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xroom/util/map.h"

#define NKEYS 5000

struct item {
	struct xr_map_node node;
	char key[24];
	size_t klen;
	int value;
};

struct fx {
	struct xr_map m;
	struct item *items; /* NKEYS of them */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->items = calloc(NKEYS, sizeof(*f->items));
	if (!f->items) {
		free(f);
		return -1;
	}
	for (int i = 0; i < NKEYS; i++) {
		f->items[i].klen = (size_t)snprintf(f->items[i].key,
						    sizeof(f->items[i].key),
						    "key-%d", i);
		f->items[i].value = i;
	}
	xr_map_init(&f->m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xr_map_free(&f->m);
	free(f->items);
	free(f);
	return 0;
}

static struct item *find(struct fx *f, const char *key, size_t klen)
{
	struct xr_map_node *n = xr_map_find(&f->m, key, klen);

	return n ? xr_container_of(n, struct item, node) : NULL;
}

static void add(struct fx *f, int i)
{
	struct item *it = &f->items[i];

	assert_int_equal(xr_map_insert(&f->m, &it->node, it->key, it->klen), 0);
}

static void empty_map(void **state)
{
	struct fx *f = *state;

	assert_null(xr_map_find(&f->m, "x", 1));
	assert_null(xr_map_find(&f->m, "", 0));
	assert_int_equal(f->m.count, 0);
	assert_int_equal(f->m.nslots, 0);
	assert_null(f->m.slots);
}

static void insert_find_remove(void **state)
{
	struct fx *f = *state;

	add(f, 1);
	add(f, 2);
	assert_int_equal(f->m.count, 2);
	assert_ptr_equal(find(f, "key-1", 5), &f->items[1]);
	assert_ptr_equal(find(f, "key-2", 5), &f->items[2]);
	assert_int_equal(find(f, "key-2", 5)->value, 2);
	assert_null(find(f, "key-3", 5));
	/* the key is compared by length: prefixes and extensions differ */
	assert_null(find(f, "key-", 4));
	assert_null(find(f, "key-10", 6));
	/* a key need not be NUL-terminated where it is looked up */
	assert_ptr_equal(find(f, "key-1xyz", 5), &f->items[1]);

	xr_map_remove(&f->m, &f->items[1].node);
	assert_int_equal(f->m.count, 1);
	assert_null(find(f, "key-1", 5));
	assert_ptr_equal(find(f, "key-2", 5), &f->items[2]);
	assert_null(f->items[1].node.next);

	/* removed nodes can go back in */
	add(f, 1);
	assert_ptr_equal(find(f, "key-1", 5), &f->items[1]);
	assert_int_equal(f->m.count, 2);
}

static void binary_and_empty_keys(void **state)
{
	struct fx *f = *state;
	static const char k1[] = { 'a', '\0', 'b' }, k2[] = { 'a', '\0', 'c' };

	assert_int_equal(xr_map_insert(&f->m, &f->items[0].node, k1, 3), 0);
	assert_int_equal(xr_map_insert(&f->m, &f->items[1].node, k2, 3), 0);
	assert_int_equal(xr_map_insert(&f->m, &f->items[2].node, "", 0), 0);
	assert_ptr_equal(find(f, k1, 3), &f->items[0]);
	assert_ptr_equal(find(f, k2, 3), &f->items[1]);
	assert_ptr_equal(find(f, "", 0), &f->items[2]);
	assert_null(find(f, "a", 1));
}

static void growth_with_thousands_of_keys(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < NKEYS; i++) {
		add(f, i);
		assert_int_equal(f->m.count, (size_t)i + 1);
		assert_true(f->m.count <= f->m.nslots); /* load <= 1 */
	}
	assert_int_equal(f->m.nslots & (f->m.nslots - 1), 0);
	assert_true(f->m.nslots >= NKEYS && f->m.nslots <= 2 * NKEYS);
	for (int i = 0; i < NKEYS; i++) {
		struct item *it = find(f, f->items[i].key, f->items[i].klen);
		assert_ptr_equal(it, &f->items[i]);
		assert_int_equal(it->value, i);
	}
	/* every node is in exactly one chain: the chains hold count nodes */
	{
		size_t total = 0, longest = 0;
		for (size_t s = 0; s < f->m.nslots; s++) {
			size_t len = 0;
			for (struct xr_map_node *n = f->m.slots[s]; n; n = n->next)
				len++;
			total += len;
			if (len > longest)
				longest = len;
		}
		assert_int_equal(total, NKEYS);
		assert_true(longest < 16); /* a keyed hash spreads them */
	}
	/* remove every other key */
	for (int i = 0; i < NKEYS; i += 2)
		xr_map_remove(&f->m, &f->items[i].node);
	assert_int_equal(f->m.count, NKEYS / 2);
	for (int i = 0; i < NKEYS; i++) {
		struct item *it = find(f, f->items[i].key, f->items[i].klen);
		if (i % 2)
			assert_ptr_equal(it, &f->items[i]);
		else
			assert_null(it);
	}
	/* and put them back */
	for (int i = 0; i < NKEYS; i += 2)
		add(f, i);
	assert_int_equal(f->m.count, NKEYS);
	for (int i = 0; i < NKEYS; i++)
		assert_ptr_equal(find(f, f->items[i].key, f->items[i].klen),
				 &f->items[i]);
}

static void remove_all_then_free(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 100; i++)
		add(f, i);
	for (int i = 99; i >= 0; i--)
		xr_map_remove(&f->m, &f->items[i].node);
	assert_int_equal(f->m.count, 0);
	for (int i = 0; i < 100; i++)
		assert_null(find(f, f->items[i].key, f->items[i].klen));
	xr_map_free(&f->m);
	assert_null(f->m.slots);
	assert_int_equal(f->m.nslots, 0);
	assert_int_equal(f->m.count, 0);
	assert_null(xr_map_find(&f->m, "key-1", 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(empty_map, setup, teardown),
		cmocka_unit_test_setup_teardown(insert_find_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(binary_and_empty_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(growth_with_thousands_of_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(remove_all_then_free, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
