/* watch.c — reload an engine when its policy files change (inotify).
 *
 * One thread per watcher. It waits (poll) on an inotify descriptor and an
 * eventfd used to stop it. A relevant change starts (or restarts) the
 * debounce timer; once changes have been quiet for debounce_ms it calls
 * rg_engine_reload(engine, NULL) — which keeps the old snapshot on any
 * error — and reports the outcome through the callback. So a burst of
 * saves (an editor's write + rename + chmod, a `git pull` touching ten
 * files) gives one reload, and a half-written set that fails to load is
 * simply retried at the next change.
 *
 * What is watched:
 *   - a policy directory: it and every subdirectory (lexicons/...), any
 *     non-hidden file; plus its parent, for the directory's own name, so
 *     that a deploy that swaps a symlink (ln -sfn v2 policies) or renames
 *     a new directory into place is seen (the watches are then rebuilt on
 *     the new target);
 *   - a single YAML file: its directory tree (lexicons are below it);
 *   - a bundle: its directory, for that one name (deploys replace it by
 *     rename, which a watch on the file itself would miss).
 * Hidden names (editor swap files, our own temporaries) never count. */
#include "engine.h"
#include "alloc.h"
#include "cache.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_DEBOUNCE_MS 200
/* Subdirectories watched at most (lexicon trees are shallow). */
#define MAX_WATCHES 4096

enum { MODE_DIR, MODE_FILE, MODE_BUNDLE };

typedef struct wentry {
    int wd;
    char *path;
    int top;      /* the root directory (or the file's directory) */
    int parent;   /* the root's parent: only the root's own name counts */
} wentry;

struct rg_watch {
    rg_engine *engine;
    rg_allocator a;
    rg_watch_fn callback;
    void *user;
    unsigned debounce_ms;
    int mode;
    char *path;   /* as the engine has it */
    char *dir;    /* the directory tree to watch */
    char *base;   /* bundle / root name to filter on in its parent */
    char *parent; /* the root's parent directory (MODE_DIR) */
    int ifd, efd;
    pthread_t thread;
    wentry *w;
    size_t nw, capw;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *join(const rg_allocator *a, const char *dir, const char *name)
{
    size_t n = strlen(dir), m = strlen(name);
    char *p = rg__malloc(a, n + m + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, n);
    size_t k = n;
    if (n && dir[n - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, name, m + 1);
    return p;
}

static int add_watch(rg_watch *w, const char *path, uint32_t mask, int top,
                     int parent)
{
    if (w->nw >= MAX_WATCHES)
        return -1;
    int wd = inotify_add_watch(w->ifd, path, mask);
    if (wd < 0)
        return -1;
    for (size_t i = 0; i < w->nw; i++)
        if (w->w[i].wd == wd)
            return 0; /* the same directory reached twice */
    if (rg__grow(&w->a, (void **)&w->w, &w->capw, w->nw + 1, sizeof *w->w))
        return -1;
    char *copy = rg__strdup(&w->a, path);
    if (!copy)
        return -1;
    w->w[w->nw++] = (wentry){wd, copy, top, parent};
    return 0;
}

static const uint32_t CONTENT_MASK = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                     IN_CREATE | IN_DELETE | IN_DELETE_SELF |
                                     IN_MOVE_SELF | IN_ONLYDIR;

/* The directory and its subdirectories (not following symlinks below the
 * root: a lexicon symlinked out of the tree is refused by the loader). */
static void add_tree(rg_watch *w, const char *dir, int top, int depth)
{
    if (add_watch(w, dir, CONTENT_MASK, top, 0) != 0 || depth > 16)
        return;
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        struct stat st;
        if (fstatat(dirfd(dh), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        char *sub = join(&w->a, dir, e->d_name);
        if (sub) {
            add_tree(w, sub, 0, depth + 1);
            rg__free(&w->a, sub);
        }
    }
    closedir(dh);
}

static void drop_watches(rg_watch *w)
{
    for (size_t i = 0; i < w->nw; i++) {
        inotify_rm_watch(w->ifd, w->w[i].wd);
        rg__free(&w->a, w->w[i].path);
    }
    w->nw = 0;
}

/* (Re)build every watch. Returns 0 if the root itself is watched. */
static int build_watches(rg_watch *w)
{
    drop_watches(w);
    if (w->mode == MODE_BUNDLE)
        return add_watch(w, w->dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
                                        IN_ONLYDIR, 1, 0);
    add_tree(w, w->dir, 1, 0);
    if (w->nw == 0)
        return -1;
    /* IN_MASK_ADD: should the parent be the root itself ("."), its
     * watch keeps the content events. */
    if (w->parent)
        (void)add_watch(w, w->parent, IN_CREATE | IN_MOVED_TO | IN_DELETE |
                                          IN_MOVED_FROM | IN_ONLYDIR | IN_MASK_ADD,
                        0, 1);
    return 0;
}

static const wentry *entry_of(const rg_watch *w, int wd)
{
    for (size_t i = 0; i < w->nw; i++)
        if (w->w[i].wd == wd)
            return &w->w[i];
    return NULL;
}

/* Does this event change what the engine would load? Sets *rebuild when
 * the watches themselves must be rebuilt (root replaced, new subdir). */
static int relevant(rg_watch *w, const struct inotify_event *ev, int *rebuild)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        *rebuild = 1; /* events were lost (wd is -1): assume anything */
        return 1;
    }
    const wentry *we = entry_of(w, ev->wd);
    if (!we)
        return 0;
    const char *name = ev->len ? ev->name : "";
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        if (we->top)
            *rebuild = 1; /* the root went away (or was renamed) */
        return 1;
    }
    if (w->mode == MODE_BUNDLE)
        return strcmp(name, w->base) == 0;
    if (we->parent) {
        if (strcmp(name, w->base) != 0)
            return 0;
        *rebuild = 1; /* the root's name now points somewhere new */
        return 1;
    }
    if (name[0] == '.' || (ev->len && name[strlen(name) - 1] == '~'))
        return 0; /* editor temporaries, our own dot-files */
    if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
        *rebuild = 1; /* a new subdirectory: watch it too */
    return 1;
}

static void reload_now(rg_watch *w)
{
    rg_diag *diag = NULL;
    int rc = rg_engine_reload(w->engine, NULL, &diag);
    rg_engine_info info;
    uint64_t gen = rg_engine_get_info(w->engine, &info) == RG_OK ? info.generation : 0;
    if (w->callback)
        w->callback(w->user, rc, diag, gen);
    rg_diag_free(diag);
}

static void *run(void *arg)
{
    rg_watch *w = arg;
    /* Aligned for struct inotify_event. */
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int pending = 0, rebuild = 0;
    uint64_t due = 0;
    for (;;) {
        int timeout = -1;
        if (pending) {
            uint64_t t = now_ms();
            timeout = due > t ? (int)(due - t) : 0;
        }
        struct pollfd pf[2] = {{w->ifd, POLLIN, 0}, {w->efd, POLLIN, 0}};
        int n = poll(pf, 2, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pf[1].revents & POLLIN))
            break; /* rg_watch_stop */
        if (n > 0 && (pf[0].revents & POLLIN)) {
            ssize_t len = read(w->ifd, buf, sizeof buf);
            for (char *p = buf; len > 0 && p < buf + len;) {
                const struct inotify_event *ev = (const struct inotify_event *)p;
                if (relevant(w, ev, &rebuild)) {
                    pending = 1;
                    due = now_ms() + w->debounce_ms;
                }
                p += sizeof *ev + ev->len;
            }
            continue;
        }
        if (pending && now_ms() >= due) {
            if (rebuild) {
                (void)build_watches(w);
                rebuild = 0;
            }
            pending = 0;
            reload_now(w);
        }
    }
    return NULL;
}

static void watch_free(rg_watch *w)
{
    if (w->ifd >= 0) {
        drop_watches(w);
        close(w->ifd);
    }
    if (w->efd >= 0)
        close(w->efd);
    rg__free(&w->a, w->w);
    rg__free(&w->a, w->path);
    rg__free(&w->a, w->dir);
    rg__free(&w->a, w->base);
    rg__free(&w->a, w->parent);
    rg_allocator a = w->a;
    rg__free(&a, w);
}

static char *dir_part(const rg_allocator *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return rg__strdup(a, ".");
    if (slash == path)
        return rg__strdup(a, "/");
    return rg__strndup(a, path, (size_t)(slash - path));
}

int rg_watch_start(rg_engine *engine, const rg_watch_options *opts,
                   rg_watch **out)
{
    if (out)
        *out = NULL;
    if (!engine || !out ||
        (opts && opts->struct_size < offsetof(rg_watch_options, user) + sizeof(void *)))
        return RG_E_INVAL;
    rg_watch *w = rg__calloc(&engine->a, 1, sizeof *w);
    if (!w)
        return RG_E_NOMEM;
    w->a = engine->a;
    w->engine = engine;
    w->ifd = w->efd = -1;
    w->debounce_ms = opts && opts->debounce_ms ? opts->debounce_ms : DEFAULT_DEBOUNCE_MS;
    w->callback = opts ? opts->callback : NULL;
    w->user = opts ? opts->user : NULL;
    pthread_mutex_lock(&engine->lock);
    w->path = rg__strdup(&w->a, engine->path);
    pthread_mutex_unlock(&engine->lock);
    if (!w->path) {
        watch_free(w);
        return RG_E_NOMEM;
    }
    /* Trailing slashes would make the root's base name empty. */
    size_t pl = strlen(w->path);
    while (pl > 1 && w->path[pl - 1] == '/')
        w->path[--pl] = '\0';
    struct stat st;
    if (stat(w->path, &st) != 0) {
        watch_free(w);
        return RG_E_IO;
    }
    const char *slash = strrchr(w->path, '/');
    w->base = rg__strdup(&w->a, slash ? slash + 1 : w->path);
    if (S_ISDIR(st.st_mode)) {
        w->mode = MODE_DIR;
        w->dir = rg__strdup(&w->a, w->path);
        w->parent = dir_part(&w->a, w->path);
    } else {
        w->mode = rg__bundle_sniff(w->path) ? MODE_BUNDLE : MODE_FILE;
        w->dir = dir_part(&w->a, w->path);
    }
    if (!w->base || !w->dir || (w->mode == MODE_DIR && !w->parent)) {
        watch_free(w);
        return RG_E_NOMEM;
    }
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->ifd < 0 || w->efd < 0 || build_watches(w) != 0) {
        watch_free(w);
        return RG_E_IO;
    }
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        watch_free(w);
        return RG_E_NOMEM;
    }
    *out = w;
    return RG_OK;
}

void rg_watch_stop(rg_watch *w)
{
    if (!w)
        return;
    uint64_t one = 1;
    while (write(w->efd, &one, sizeof one) < 0 && errno == EINTR)
        ;
    pthread_join(w->thread, NULL);
    watch_free(w);
}
