/* syncer.c — a timer thread that syncs what was written (see syncer.h). */
#include "engine/syncer.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct syncer {
	pthread_t thread;
	pthread_mutex_t mu;        /* guards stop and err; the cv waits on it */
	pthread_cond_t cv;         /* signalled to stop */
	uint64_t every_ns;         /* the longest a noted write waits for its sync */
	syncer_fn fn;              /* the owner's sync */
	void *ctx;                 /* its argument */
	_Atomic uint64_t pending;  /* writes noted since the last sync began */
	_Atomic bool failed;       /* a sync failed: no more rounds */
	bool stop;                 /* syncer_stop asked the thread to end */
	sl_err_t err;              /* why the sync failed */
};

static void syncer_deadline(struct timespec *ts, uint64_t after_ns)
{
	clock_gettime(CLOCK_REALTIME, ts);
	uint64_t ns = (uint64_t)ts->tv_nsec + after_ns;
	ts->tv_sec += (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

static void *syncer_main(void *arg)
{
	syncer_t *s = arg;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct timespec until;
		syncer_deadline(&until, s->every_ns);
		pthread_cond_timedwait(&s->cv, &s->mu, &until);
		if (s->stop || s->failed || atomic_exchange(&s->pending, 0) == 0)
			continue;
		pthread_mutex_unlock(&s->mu);
		sl_err_t e = { 0 };
		int rc = s->fn(s->ctx, &e);
		pthread_mutex_lock(&s->mu);
		if (rc != SL_OK) {
			s->err = e;
			s->failed = true;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int syncer_start(uint32_t ms, syncer_fn fn, void *ctx, syncer_t **out, sl_err_t *err)
{
	assert(ms > 0 && fn != NULL);
	*out = NULL;
	syncer_t *s = calloc(1, sizeof *s);
	if (s == NULL)
		return sl_errf(err, SL_NOMEM, "out of memory for a sync timer");
	s->every_ns = (uint64_t)ms * 1000000u;
	s->fn = fn;
	s->ctx = ctx;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, syncer_main, s) != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return sl_errf(err, SL_NOMEM, "cannot start the sync timer thread");
	}
	*out = s;
	return SL_OK;
}

void syncer_note(syncer_t *s)
{
	atomic_fetch_add(&s->pending, 1);
}

void syncer_clear(syncer_t *s)
{
	atomic_store(&s->pending, 0);
}

bool syncer_failed(syncer_t *s, sl_err_t *err)
{
	if (!s->failed)
		return false;
	if (err != NULL) {
		pthread_mutex_lock(&s->mu);
		*err = s->err;
		pthread_mutex_unlock(&s->mu);
	}
	return true;
}

void syncer_stop(syncer_t *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
