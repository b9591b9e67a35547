# SPDX-License-Identifier: Apache-2.0
package FcgiPmTest;

# Test harness for mod_fcgi_pm.
#
# Every test file creates one (or several) FcgiPmTest objects.  Each object
# owns a private server root under a temporary directory (mode 0755 so that
# httpd children running as www-data can traverse it), a free 127.0.0.1 port
# and a generated httpd.conf.  httpd is driven through
# "/usr/sbin/apache2 -f CONF -k start|graceful|restart|stop|graceful-stop"
# with a clean environment.
#
# Whatever happens (failed assertion, die, ^C), the END block stops every
# httpd this process started (by its pid file / recorded pid) and SIGKILLs,
# by pid, the processes that belong to it: the httpd's session, every
# descendant seen, every process whose command line contains the private
# server root, and the load-generator children.  Nothing is killed by name.
#
# Environment:
#   FCGI_PM_MODULE   path of mod_fcgi_pm.so (default <repo>/.libs/mod_fcgi_pm.so)
#   FCGI_PM_KEEP     keep the temporary server roots (their paths are printed)
#   FCGI_PM_APACHE   httpd binary (default /usr/sbin/apache2)

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use Errno qw(EAGAIN EWOULDBLOCK EINTR ESRCH);
use Exporter 'import';
use Fcntl qw(:mode);
use File::Basename qw(dirname basename);
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX qw(:sys_wait_h ceil);
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(
    app_conf
    http_request build_app repo_dir module_path apache_bin
    proc_stat proc_cmdline proc_status all_procs pid_alive free_port
    wait_for has_go
);

our $APACHE      = $ENV{FCGI_PM_APACHE} || '/usr/sbin/apache2';
our $MODULES_DIR = '/usr/lib/apache2/modules';

my $REPO = abs_path(dirname(__FILE__) . '/../..');

sub repo_dir    { $REPO }
sub apache_bin  { $APACHE }
sub module_path { $ENV{FCGI_PM_MODULE} || "$REPO/.libs/mod_fcgi_pm.so" }

# Objects alive in this process, for the END cleanup.
my %INSTANCES;
my $OWNER_PID = $$;

#----------------------------------------------------------------------------
# Construction
#----------------------------------------------------------------------------

# FcgiPmTest->new(%opt)
#   mpm         event (default) | worker | prefork
#   module      load mod_fcgi_pm (default 1)
#   proxy_fcgi  load mod_proxy_fcgi (default 1)
#   env         hashref of extra environment for the apache2 command
sub new {
    my ($class, %opt) = @_;
    croak "tests must run as root (httpd switches to www-data)" if $> != 0;

    my $keep = $ENV{FCGI_PM_KEEP} ? 1 : 0;
    my $root = tempdir('fcgipm-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    chmod 0755, $root or croak "chmod $root: $!";
    $root = abs_path($root);

    my $self = bless {
        root       => $root,
        keep       => $keep,
        mpm        => $opt{mpm} || 'event',
        module     => exists $opt{module} ? $opt{module} : 1,
        proxy_fcgi => exists $opt{proxy_fcgi} ? $opt{proxy_fcgi} : 1,
        env        => $opt{env} || {},
        port       => free_port(),
        httpd_pids => {},   # pid => starttime, every httpd parent seen
        seen       => {},   # pid => starttime, managers/workers seen
        loads      => [],
        load_seq   => 0,
        owner      => $$,
    }, $class;

    for my $d (qw(run logs htdocs bin conf modules)) {
        make_path("$root/$d");
        chmod 0755, "$root/$d";
    }
    # Private copy of the repository's build: a rebuild while the test runs
    # does not change the binary under a running (or gracefully restarting)
    # httpd.  An explicit FCGI_PM_MODULE is used as is (see conf_text).
    if ($self->{module}) {
        my $src = module_path();
        croak "mod_fcgi_pm not found at $src (build it: make -f Makefile.apxs, or set FCGI_PM_MODULE)"
            unless -f $src;
        unless ($ENV{FCGI_PM_MODULE}) {
            $self->{module_copy} = "$root/modules/mod_fcgi_pm.so";
            copy($src, $self->{module_copy}) or croak "copy $src: $!";
            chmod 0755, $self->{module_copy};
        }
    }
    $self->{conf_path} = "$root/conf/httpd.conf";
    $INSTANCES{"$self"} = $self;
    # Owner stamp: lets a later run clean up after a run that was SIGKILLed.
    if (open my $fh, '>', "$root/owner") {
        print {$fh} "$$ " . ((proc_stat($$) || {})->{starttime} // 0) . "\n";
        close $fh;
    }
    _install_signal_handlers();
    _janitor($root);
    Test::More::note("server root: $root (port $self->{port})") if $INC{'Test/More.pm'};
    return $self;
}

# SIGINT/SIGTERM/SIGHUP (^C, "timeout", a closed terminal) end the test
# through exit(), so that the END cleanup still runs.
my $SIGNALS_INSTALLED;
sub _install_signal_handlers {
    return if $SIGNALS_INSTALLED++;
    for my $sig (qw(INT TERM HUP)) {
        next if defined $SIG{$sig} && $SIG{$sig} ne 'DEFAULT' && $SIG{$sig} ne '';
        $SIG{$sig} = sub {
            POSIX::_exit(1) unless $$ == $OWNER_PID;   # forked helpers just go
            print STDERR "# caught SIG$sig, cleaning up\n";
            exit 1;
        };
    }
}

# Once per process: server roots of earlier runs whose test process is gone
# (killed before its END block could run) still have an httpd, a manager or
# workers: stop them (by the pid file, then by pid for anything whose command
# line names that root) and remove the root unless it was kept on purpose.
my $JANITOR_DONE;
sub _janitor {
    my ($own_root) = @_;
    return if $JANITOR_DONE++;
    my $tmp = dirname($own_root);
    opendir my $dh, $tmp or return;
    my @roots = map { "$tmp/$_" } grep { /^fcgipm-[A-Za-z0-9_]{6}$/ } readdir $dh;
    closedir $dh;
    my $my_sid = (proc_stat($$) || {})->{sid} // -1;
    for my $root (@roots) {
        next if $root eq $own_root;
        open my $fh, '<', "$root/owner" or next;
        my ($opid, $ostart) = split ' ', (<$fh> // '');
        close $fh;
        next unless $opid;
        my $ost = proc_stat($opid);
        next if $ost && $ost->{state} ne 'Z' && $ost->{starttime} == ($ostart // -1);
        # Stale: its test process is gone.
        my @victims;
        if (open my $pf, '<', "$root/run/httpd.pid") {
            my ($hp) = (<$pf> // '') =~ /(\d+)/;
            close $pf;
            if ($hp && $hp > 1 && pid_alive($hp) && index(proc_cmdline($hp) // '', $root) >= 0) {
                _audit_kill('TERM', $hp);
                kill 'TERM', $hp;
                wait_for(sub { !pid_alive($hp) }, 15, 0.1);
            }
        }
        @victims = grep { my $st = proc_stat($_); $st && $st->{sid} != $my_sid && $_ > 1 }
                   map { $_->{pid} } grep { $_->{state} ne 'Z' && index($_->{cmdline}, $root) >= 0 } all_procs();
        if (@victims) {
            Test::More::diag("janitor: stale $root: killing " . join(', ', @victims)) if $INC{'Test/More.pm'};
            _audit_kill('KILL', @victims);
            kill 'KILL', @victims;
        }
        remove_tree($root) unless -e "$root/KEPT";
    }
}

sub root     { $_[0]{root} }
sub port     { $_[0]{port} }
sub docroot  { "$_[0]{root}/htdocs" }
sub sockdir  { "$_[0]{root}/fcgi-sock" }
sub logfile  { "$_[0]{root}/logs/error.log" }
sub accesslog { "$_[0]{root}/logs/access.log" }
sub pidfile  { "$_[0]{root}/run/httpd.pid" }
sub conf_path { $_[0]{conf_path} }
sub mpm      { $_[0]{mpm} }
sub base_url { "http://127.0.0.1:$_[0]{port}" }

#----------------------------------------------------------------------------
# Test applications
#----------------------------------------------------------------------------

# build_app('hello') -> path of t/apps/build/hello, compiled from
# t/apps/hello.c if missing or older than its source or t/apps/appkit.h.  Safe when several
# test files build at the same time (compile to a temporary name, rename).
sub build_app {
    my ($name) = @_;
    return build_go_app($name) if -f "$REPO/t/apps/$name.go" && !-f "$REPO/t/apps/$name.c";
    my $src = "$REPO/t/apps/$name.c";
    croak "no such app source: $src" unless -f $src;
    my $dir = "$REPO/t/apps/build";
    make_path($dir);
    chmod 0755, $dir;
    my $out = "$dir/$name";
    # The app's source and the helpers every app includes (appkit.h).
    my ($newest) = sort { $b <=> $a } map { (stat $_)[9] // 0 } $src, "$REPO/t/apps/appkit.h";
    if (-x $out && (stat $out)[9] >= $newest) {
        return $out;
    }
    my $tmp = "$out.tmp.$$";
    my @cmd = ('cc', '-O2', '-Wall', '-o', $tmp, $src, '-lfcgi', '-lpthread');
    my $rc = system(@cmd);
    croak "build of $src failed: @cmd (exit $rc)" if $rc != 0;
    chmod 0755, $tmp;
    rename $tmp, $out or croak "rename $tmp $out: $!";
    return $out;
}

# build_go_app('gofcgi') -> path of t/apps/build/gofcgi, built from
# t/apps/gofcgi.go with "go build" (standard library only: no network, a
# private GOCACHE/GOPATH/HOME under a temporary directory).  Croaks when
# the go tool is missing; callers skip with has_go().
sub has_go { return -x '/usr/bin/go' || grep { -x "$_/go" } split /:/, ($ENV{PATH} // '') }

sub build_go_app {
    my ($name) = @_;
    my $src = "$REPO/t/apps/$name.go";
    croak "no such app source: $src" unless -f $src;
    my $dir = "$REPO/t/apps/build";
    make_path($dir);
    chmod 0755, $dir;
    my $out = "$dir/$name";
    return $out if -x $out && (stat $out)[9] >= (stat $src)[9];
    my ($go) = grep { -x } ('/usr/bin/go', map { "$_/go" } split /:/, ($ENV{PATH} // ''));
    croak "go not found (install golang-go)" unless $go;
    my $tmpdir = tempdir('fcgipm-gobuild-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $tmp = "$out.tmp.$$";
    my $pid = fork;
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        %ENV = (PATH => '/usr/local/bin:/usr/bin:/bin', HOME => $tmpdir,
                GOCACHE => "$tmpdir/cache", GOPATH => "$tmpdir/gopath",
                GOPROXY => 'off', GOFLAGS => '', GO111MODULE => 'off',
                CGO_ENABLED => '0', LANG => 'C');
        chdir $tmpdir or POSIX::_exit(126);
        exec $go, 'build', '-o', $tmp, $src or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    croak "go build of $src failed (exit " . ($? >> 8) . ")" if $? != 0;
    chmod 0755, $tmp;
    rename $tmp, $out or croak "rename $tmp $out: $!";
    return $out;
}

# $t->app('hello')      compiled C app, copied to ROOT/bin/hello
# $t->app('hello.pl')   script copied to ROOT/bin/hello.pl (mode 0755)
# Returns the absolute path.  Copying into the private root makes every
# worker's command line contain the root, which the cleanup relies on.
sub app {
    my ($self, $name) = @_;
    my $dst = "$self->{root}/bin/$name";
    return $dst if -x $dst;
    my $src = $name =~ /\./ ? "$REPO/t/apps/$name" : build_app($name);
    copy($src, $dst) or croak "copy $src $dst: $!";
    chmod 0755, $dst or croak "chmod $dst: $!";
    return $dst;
}

# $t->docfile('hello.php') copies t/apps/hello.php into the DocumentRoot.
sub docfile {
    my ($self, $name, $subdir) = @_;
    my $dir = $self->docroot . (defined $subdir ? "/$subdir" : '');
    make_path($dir);
    chmod 0755, $dir;
    my $dst = "$dir/$name";
    copy("$REPO/t/apps/$name", $dst) or croak "copy $name: $!";
    chmod 0644, $dst;
    return $dst;
}

#----------------------------------------------------------------------------
# Configuration
#----------------------------------------------------------------------------

# The event and worker MPMs take the same settings.
my $THREADED_MPM = <<'EOT';
    StartServers             2
    ServerLimit              16
    MinSpareThreads          25
    MaxSpareThreads          75
    ThreadLimit              64
    ThreadsPerChild          25
    MaxRequestWorkers        150
    MaxConnectionsPerChild   0
EOT
my %MPM_CONF = (
    event  => "<IfModule mpm_event_module>\n$THREADED_MPM</IfModule>\n",
    worker => "<IfModule mpm_worker_module>\n$THREADED_MPM</IfModule>\n",
    prefork => <<'EOT',
<IfModule mpm_prefork_module>
    StartServers             8
    MinSpareServers          5
    MaxSpareServers          20
    ServerLimit              64
    MaxRequestWorkers        64
    MaxConnectionsPerChild   0
</IfModule>
EOT
);

# $t->conf_text($body, %opt) -> full httpd.conf text.
#   mpm, module, proxy_fcgi   override the object's settings
#   sockdir                   FcgiPmSocketDir (default ROOT/fcgi-sock; 0 = omit)
#   mime                      load mod_mime (default 1)
#   loglevel                  LogLevel (default info)
sub conf_text {
    my ($self, $body, %opt) = @_;
    my $root = $self->{root};
    my $mpm = $opt{mpm} || $self->{mpm};
    croak "unknown mpm $mpm" unless $MPM_CONF{$mpm};
    my $module = exists $opt{module} ? $opt{module} : $self->{module};
    my $proxy_fcgi = exists $opt{proxy_fcgi} ? $opt{proxy_fcgi} : $self->{proxy_fcgi};
    my $mime = exists $opt{mime} ? $opt{mime} : 1;
    my $loglevel = $opt{loglevel} // 'info';
    my $sockdir = exists $opt{sockdir} ? $opt{sockdir} : $self->sockdir;
    my $port = $self->{port};
    # FCGI_PM_MODULE, when set (even after new()), wins over the copy.
    my $modpath = $ENV{FCGI_PM_MODULE} || $self->{module_copy} || module_path();

    my $c = '';
    $c .= "# generated by t/lib/FcgiPmTest.pm\n";
    $c .= "ServerRoot \"$root\"\n";
    $c .= "Listen 127.0.0.1:$port\n";
    $c .= "PidFile \"$root/run/httpd.pid\"\n";
    $c .= "DefaultRuntimeDir \"$root/run\"\n";
    $c .= "Mutex file:$root/run default\n";
    $c .= "ErrorLog \"$root/logs/error.log\"\n";
    $c .= "LogLevel $loglevel\n";
    $c .= "LogFormat \"%h %{%s}t.%{msec_frac}t \\\"%r\\\" %>s %b %D\" timing\n";
    $c .= "CustomLog \"$root/logs/access.log\" timing\n";
    $c .= "LoadModule mpm_${mpm}_module $MODULES_DIR/mod_mpm_$mpm.so\n";
    $c .= "LoadModule authz_core_module $MODULES_DIR/mod_authz_core.so\n";
    $c .= "LoadModule authz_host_module $MODULES_DIR/mod_authz_host.so\n";
    $c .= "LoadModule mime_module $MODULES_DIR/mod_mime.so\n" if $mime;
    $c .= "LoadModule proxy_module $MODULES_DIR/mod_proxy.so\n";
    $c .= "LoadModule proxy_fcgi_module $MODULES_DIR/mod_proxy_fcgi.so\n" if $proxy_fcgi;
    $c .= "LoadModule fcgi_pm_module $modpath\n" if $module;
    $c .= "TypesConfig /etc/mime.types\n" if $mime && -f '/etc/mime.types';
    $c .= "User www-data\n";
    $c .= "Group www-data\n";
    $c .= "ServerName 127.0.0.1\n";
    $c .= "DocumentRoot \"$root/htdocs\"\n";
    $c .= "<Directory />\n    Require all granted\n</Directory>\n";
    $c .= "Timeout 60\n";
    $c .= "KeepAlive On\n";
    $c .= "GracefulShutdownTimeout 10\n";
    $c .= $MPM_CONF{$mpm};
    $c .= "FcgiPmSocketDir \"$sockdir\"\n" if $module && $sockdir;
    $c .= "# ---- test body ----\n";
    $c .= $body;
    $c .= "\n" unless $c =~ /\n\z/;
    return $c;
}

# $t->write_conf($body, %opt) -> path.  %opt as conf_text, plus
#   file => NAME   write ROOT/conf/NAME instead of httpd.conf (and do not
#                  make it the object's main config)
sub write_conf {
    my ($self, $body, %opt) = @_;
    my $file = delete $opt{file};
    my $path = "$self->{root}/conf/" . ($file // 'httpd.conf');
    open my $fh, '>', $path or croak "write $path: $!";
    print {$fh} $self->conf_text($body, %opt);
    close $fh or croak "close $path: $!";
    chmod 0644, $path;
    $self->{conf_path} = $path unless defined $file;
    return $path;
}

# app_conf($name, $command, @lines) -> an <FcgiPmApp NAME> block with
# "Command $command" and @lines (e.g. 'Processes 2'), and a
# <Location /NAME> that passes to it.
sub app_conf {
    my ($name, $command, @lines) = @_;
    return join '', "<FcgiPmApp $name>\n", "    Command $command\n",
        (map { "    $_\n" } @lines), "</FcgiPmApp>\n",
        "<Location /$name>\n    FcgiPmPass $name\n</Location>\n";
}

# conf_line_of($path, qr/.../ [, $nth]) -> 1-based line number of the nth
# (default first) line matching, or undef.
sub conf_line_of {
    my ($self, $path, $re, $nth) = @_;
    $nth ||= 1;
    open my $fh, '<', $path or croak "read $path: $!";
    my $n = 0;
    while (my $l = <$fh>) {
        $n++;
        if ($l =~ $re) {
            return $n if --$nth == 0;
        }
    }
    return undef;
}

#----------------------------------------------------------------------------
# Running apache2
#----------------------------------------------------------------------------

# Run a command with a clean environment; output (stdout+stderr) goes to a
# file, not a pipe, so that a stray daemon holding the descriptor cannot
# hang us.  Returns ($exit_code, $output).  Bounded by $timeout seconds.
sub _run {
    my ($self, $timeout, @cmd) = @_;
    $timeout ||= 60;
    my $out = "$self->{root}/run/cmd-output.$$." . int(rand(1e9));
    my %env = (
        PATH => '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        LANG => 'C',
        sanitizer_env(),
        %{ $self->{env} },
    );
    my $pid = fork;
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        %ENV = %env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec @cmd or POSIX::_exit(127);
    }
    my $deadline = time + $timeout;
    my $status;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) { $status = $?; last }
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            $status = -1;
            last;
        }
        sleep 0.05;
    }
    my $text = '';
    if (open my $fh, '<', $out) { local $/; $text = <$fh> // ''; close $fh }
    unlink $out;
    my $code = $status == -1 ? -1 : ($status & 127) ? 128 + ($status & 127) : $status >> 8;
    return ($code, $text);
}

sub apache_cmd {
    my ($self, @args) = @_;
    my $conf = $self->{conf_path};
    return $self->_run(90, $APACHE, '-f', $conf, @args);
}

# configtest([$conf]) -> ($exit_code, $output)
sub configtest {
    my ($self, $conf) = @_;
    $conf //= $self->{conf_path};
    return $self->_run(60, $APACHE, '-f', $conf, '-t');
}

sub _read_pidfile {
    my ($self) = @_;
    open my $fh, '<', $self->pidfile or return undef;
    my $l = <$fh>;
    close $fh;
    return undef unless defined $l && $l =~ /^\s*(\d+)/;
    return $1;
}

# httpd parent pid, from the pid file, if that process is alive and is our
# httpd (its command line names our config, under our root): a stale pid
# file whose pid was reused by another process is ignored.
sub httpd_pid {
    my ($self) = @_;
    my $pid = $self->_read_pidfile;
    return undef unless $pid && $pid > 1 && pid_alive($pid);
    my $cmd = proc_cmdline($pid) // '';
    return undef unless index($cmd, $self->{root}) >= 0;
    my $st = proc_stat($pid);
    $self->{httpd_pids}{$pid} //= $st->{starttime} if $st;
    return $pid;
}

# Number of "resuming normal operations" lines: one per generation.
sub generations {
    my ($self) = @_;
    my $n = 0;
    open my $fh, '<', $self->logfile or return 0;
    while (<$fh>) { $n++ if /resuming normal operations/ }
    close $fh;
    return $n;
}

sub port_open {
    my ($self) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port},
                                  Proto => 'tcp', Timeout => 2);
    return 0 unless $s;
    close $s;
    return 1;
}

# `make test-asan` sets FCGI_PM_PRELOAD (the sanitizer runtimes, which
# must come before everything in a process that dlopen()s an instrumented
# module) and ASAN_OPTIONS/UBSAN_OPTIONS; only httpd's commands get them,
# not perl.
sub sanitizer_env {
    my $pre = $ENV{FCGI_PM_PRELOAD} or return ();
    return (LD_PRELOAD => $pre,
            map { defined $ENV{$_} ? ($_ => $ENV{$_}) : () } qw(ASAN_OPTIONS UBSAN_OPTIONS));
}

# start(): apache2 -k start, then wait until the pid file names a live
# process, a new generation is logged and the port answers.  Dies on failure
# (with the command output and the error log tail).
sub start {
    my ($self, %opt) = @_;
    my $gen0 = $self->generations;
    my ($rc, $out) = $self->apache_cmd('-k', 'start');
    if ($rc != 0) {
        croak "apache2 -k start failed (exit $rc): $out\n" . $self->log_tail(30);
    }
    my $ok = wait_for(sub {
        $self->httpd_pid && $self->generations > $gen0 && $self->port_open
    }, $opt{timeout} || 30);
    croak "httpd did not come up within " . ($opt{timeout} || 30) . " s: $out\n" . $self->log_tail(30)
        unless $ok;
    $self->_remember_tree;
    return 1;
}

sub _signal_and_wait_generation {
    my ($self, $what, %opt) = @_;
    my $pid = $self->httpd_pid or croak "$what: httpd is not running";
    my $gen0 = $self->generations;
    $self->_remember_tree;
    my ($rc, $out) = $self->apache_cmd('-k', $what);
    croak "apache2 -k $what failed (exit $rc): $out" if $rc != 0;
    my $ok = wait_for(sub { $self->generations > $gen0 && $self->port_open }, $opt{timeout} || 30);
    croak "no new generation within " . ($opt{timeout} || 30) . " s after -k $what\n" . $self->log_tail(30)
        unless $ok;
    my $now = $self->httpd_pid;
    croak "httpd parent changed across -k $what ($pid -> " . ($now // 'none') . ")"
        unless defined $now && $now == $pid;
    $self->_remember_tree;
    return 1;
}

# graceful() / restart(): send the signal, wait for the next generation.
sub graceful { my $s = shift; $s->_signal_and_wait_generation('graceful', @_) }
sub restart  { my $s = shift; $s->_signal_and_wait_generation('restart', @_) }

# stop() / graceful_stop(): send the signal; wait (bounded) until the httpd
# parent is gone.  Returns true if it is gone.
sub _stop_common {
    my ($self, $what, %opt) = @_;
    my $pid = $self->httpd_pid;
    return 1 unless $pid;
    $self->_remember_tree;
    my ($rc, $out) = $self->apache_cmd('-k', $what);
    if ($rc != 0) {
        Test::More::diag("apache2 -k $what exit $rc: $out") if $INC{'Test/More.pm'};
    }
    return 1 if $opt{nowait};
    return wait_for(sub { !pid_alive($pid) }, $opt{timeout} || 30) ? 1 : 0;
}
sub stop          { my $s = shift; $s->_stop_common('stop', @_) }
sub graceful_stop { my $s = shift; $s->_stop_common('graceful-stop', @_) }

#----------------------------------------------------------------------------
# Error log
#----------------------------------------------------------------------------

sub log_text {
    my ($self) = @_;
    open my $fh, '<', $self->logfile or return '';
    local $/;
    my $t = <$fh>;
    close $fh;
    return $t // '';
}

# log_mark() -> current size; log_since($mark) -> text appended since.
sub log_mark { my $s = shift; return -s $s->logfile || 0 }

sub log_since {
    my ($self, $mark) = @_;
    open my $fh, '<', $self->logfile or return '';
    seek $fh, $mark || 0, 0;
    local $/;
    my $t = <$fh>;
    close $fh;
    return $t // '';
}

sub log_tail {
    my ($self, $n) = @_;
    $n ||= 40;
    my @l = split /\n/, $self->log_text;
    @l = @l[-$n .. -1] if @l > $n;
    return "---- tail of " . $self->logfile . " ----\n" . join("\n", @l) . "\n----\n";
}

#----------------------------------------------------------------------------
# /proc
#----------------------------------------------------------------------------

sub pid_alive {
    my ($pid) = @_;
    return 0 unless $pid;
    my $st = proc_stat($pid) or return 0;
    return $st->{state} ne 'Z' ? 1 : 0;
}

# proc_stat($pid) -> {pid, comm, state, ppid, pgrp, sid, starttime} or undef
sub proc_stat {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return undef;
    my $l = <$fh>;
    close $fh;
    return undef unless defined $l;
    my ($comm) = $l =~ /^\d+ \((.*)\) /s or return undef;
    my $rest = substr($l, rindex($l, ')') + 2);
    my @f = split ' ', $rest;
    return {
        pid => $pid, comm => $comm, state => $f[0], ppid => $f[1],
        pgrp => $f[2], sid => $f[3], starttime => $f[19],
    };
}

sub proc_cmdline {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return undef;
    local $/;
    my $c = <$fh>;
    close $fh;
    return undef unless defined $c;
    $c =~ s/\0+\z//;
    $c =~ s/\0/ /g;
    return $c;
}

# proc_status($pid) -> {uid => [r,e,s,f], gid => [r,e,s,f], groups => [...]}
sub proc_status {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return undef;
    my %s;
    while (<$fh>) {
        if (/^Uid:\s+(.*)/)    { $s{uid} = [split ' ', $1] }
        elsif (/^Gid:\s+(.*)/) { $s{gid} = [split ' ', $1] }
        elsif (/^Groups:\s*(.*)/) { $s{groups} = [split ' ', $1] }
        elsif (/^State:\s+(\S)/) { $s{state} = $1 }
    }
    close $fh;
    return \%s;
}

# all_procs() -> list of {pid, ppid, sid, state, starttime, cmdline}
sub all_procs {
    my @p;
    opendir my $dh, '/proc' or return ();
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        my $st = proc_stat($pid) or next;
        $st->{cmdline} = proc_cmdline($pid) // '';
        push @p, $st;
    }
    closedir $dh;
    return @p;
}

# Managers: cmdline starts with "fcgi-pm: manager", parent is the httpd
# parent.  Returns the list of pids (tests assert there is exactly one).
sub managers {
    my ($self) = @_;
    my $hp = $self->httpd_pid or return ();
    my @m = map { $_->{pid} }
            grep { $_->{ppid} == $hp && $_->{state} ne 'Z' && $_->{cmdline} =~ /^fcgi-pm: manager/ }
            all_procs();
    $self->_seen($_) for @m;
    my @s = sort { $a <=> $b } @m;
    return @s;
}

# manager_pid(): the manager's pid if there is exactly one, else undef.
sub manager_pid {
    my ($self) = @_;
    my @m = $self->managers;
    return @m == 1 ? $m[0] : undef;
}

# workers(match => qr/.../, manager => PID): live children of the manager
# (not zombies, not un-exec'ed forks still named "fcgi-pm:"), whose command
# line matches.  Sorted pids.
sub workers {
    my ($self, %opt) = @_;
    my $m = $opt{manager} // $self->manager_pid;
    return () unless $m;
    my @w = map { $_->{pid} }
            grep { $_->{ppid} == $m && $_->{state} ne 'Z'
                   && $_->{cmdline} !~ /^fcgi-pm:/
                   && (!$opt{match} || $_->{cmdline} =~ $opt{match}) }
            all_procs();
    $self->_seen($_) for @w;
    my @s = sort { $a <=> $b } @w;
    return @s;
}

# Processes anywhere in the system whose command line matches (e.g. the
# private root path): used to find orphans.
sub procs_matching {
    my ($self, $re) = @_;
    my @p = map { $_->{pid} } grep { $_->{state} ne q{Z} && $_->{cmdline} =~ $re && $_->{pid} != $$ } all_procs();
    return @p;
}

# descendants($pid) -> all live descendants (recursive).
sub descendants {
    my ($pid) = @_;
    my @all = all_procs();
    my %kids;
    push @{ $kids{$_->{ppid}} }, $_->{pid} for grep { $_->{state} ne 'Z' } @all;
    my @out;
    my @todo = ($pid);
    while (@todo) {
        my $p = shift @todo;
        for my $k (@{ $kids{$p} || [] }) { push @out, $k; push @todo, $k }
    }
    return @out;
}

sub _seen {
    my ($self, $pid) = @_;
    return if $self->{seen}{$pid};
    my $st = proc_stat($pid) or return;
    $self->{seen}{$pid} = $st->{starttime};
}

sub _remember_tree {
    my ($self) = @_;
    my $hp = $self->httpd_pid or return;
    $self->_seen($_) for descendants($hp);
}

# Every live process of this server that we know of or can find: the httpd
# parent, its session and descendants, seen managers/workers that are still
# the same processes, anything whose command line contains the root.
sub our_processes {
    my ($self) = @_;
    my %p;
    my @all = all_procs();
    my %by_pid = map { $_->{pid} => $_ } @all;
    my %sids = map { $_ => 1 } keys %{ $self->{httpd_pids} };
    my $root = $self->{root};
    for my $pr (@all) {
        next if $pr->{state} eq 'Z' || $pr->{pid} == $$;
        if ($sids{ $pr->{sid} } || index($pr->{cmdline}, $root) >= 0) {
            $p{ $pr->{pid} } = 1;
        }
    }
    for my $pid (keys %{ $self->{seen} }, keys %{ $self->{httpd_pids} }) {
        my $pr = $by_pid{$pid} or next;
        next if $pr->{state} eq 'Z';
        my $st0 = $self->{seen}{$pid} // $self->{httpd_pids}{$pid};
        $p{$pid} = 1 if defined $st0 && $pr->{starttime} == $st0;
    }
    # Processes that carry this server's tag in their environment (see
    # tag_env): worker trees whose command line does not name the root
    # (php-cgi children, FCGI::ProcManager's renamed processes) and that
    # may have left the httpd's session (php-cgi's setsid()).
    $p{$_} = 1 for $self->tagged_processes;
    for my $hp (keys %{ $self->{httpd_pids} }) {
        next unless $by_pid{$hp};
        next unless $by_pid{$hp}{starttime} == $self->{httpd_pids}{$hp};
        $p{$_} = 1 for descendants($hp);
    }
    # Never the test itself, its ancestors or anything in its own session
    # (httpd and everything it starts live in their own sessions).
    my $my_sid = (proc_stat($$) || {})->{sid} // -1;
    my $anc = $$;
    while ($anc && $anc > 1) {
        delete $p{$anc};
        my $st = $by_pid{$anc} or last;
        $anc = $st->{ppid};
    }
    for my $pid (keys %p) {
        my $pr = $by_pid{$pid};
        delete $p{$pid} if !$pr || $pr->{sid} == $my_sid || $pid <= 1;
    }
    my @s = sort { $a <=> $b } keys %p;
    return @s;
}

# "Env FCGIPM_ROOT ROOT" for an <FcgiPmApp> block: every process of the
# app's worker trees then carries the server root in its environment, which
# tagged_processes() finds whatever the processes call themselves.
sub tag_env { return "Env FCGIPM_ROOT $_[0]{root}" }

# $t->workdir('NAME') -> ROOT/wd/NAME, created (mode 0755): an app's
# WorkingDirectory that tagged_processes() recognises.
sub workdir {
    my ($self, $name) = @_;
    my $d = "$self->{root}/wd/$name";
    make_path($d);
    chmod 0755, "$self->{root}/wd", $d;
    return $d;
}

# Live processes (not zombies) whose environment holds FCGIPM_ROOT=ROOT,
# or whose current directory is under ROOT/wd/ (give an app
# "WorkingDirectory ROOT/wd/NAME": Perl's $0 assignment, as FCGI::
# ProcManager does, overwrites the environment /proc shows).
sub tagged_processes {
    my ($self) = @_;
    my $needle = "\0FCGIPM_ROOT=$self->{root}\0";
    my $wd = "$self->{root}/wd/";
    my @p;
    opendir my $dh, '/proc' or return ();
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        next if $pid == $$;
        my $cwd = readlink "/proc/$pid/cwd";
        my $hit = defined $cwd && index("$cwd/", $wd) == 0;
        unless ($hit) {
            open my $fh, '<', "/proc/$pid/environ" or next;
            local $/;
            my $env = <$fh>;
            close $fh;
            $hit = defined $env && index("\0$env\0", $needle) >= 0;
        }
        next unless $hit;
        my $st = proc_stat($pid) or next;
        push @p, $pid if $st->{state} ne 'Z';
    }
    closedir $dh;
    my @s = sort { $a <=> $b } @p;
    return @s;
}

# Every live process under the manager (children and their descendants)
# whose command line matches (default: all): worker trees.
sub worker_trees {
    my ($self, %opt) = @_;
    my $m = $opt{manager} // $self->manager_pid;
    return () unless $m;
    my %by = map { $_->{pid} => $_ } all_procs();
    my @p = grep { my $pr = $by{$_}; $pr && $pr->{cmdline} !~ /^fcgi-pm:/
                   && (!$opt{match} || $pr->{cmdline} =~ $opt{match}) } descendants($m);
    $self->_seen($_) for @p;
    my @s = sort { $a <=> $b } @p;
    return @s;
}

# <Location /fcgi-pm-status> block for a test configuration.
sub status_conf {
    return "<Location /fcgi-pm-status>\n    SetHandler fcgi-pm-status\n    Require local\n</Location>\n";
}

# $t->status_json -> decoded /fcgi-pm-status?format=json, or undef.
sub status_json {
    my ($self) = @_;
    require JSON::PP;
    my $r = $self->get('/fcgi-pm-status?format=json', timeout => 10);
    return undef unless $r->{status} == 200;
    my $j = eval { JSON::PP->new->utf8->decode($r->{body}) };
    return $j;
}

# $t->status_app($name) -> the app's record of the JSON status, or undef.
sub status_app {
    my ($self, $name) = @_;
    my $j = $self->status_json or return undef;
    my ($app) = grep { $_->{name} eq $name } @{ $j->{apps} || [] };
    return $app;
}

# pid => starttime of each pid, to tell later whether the same process is
# still alive (gone_all).
sub identities {
    my (@pids) = @_;
    my %id;
    for (@pids) { my $st = proc_stat($_); $id{$_} = $st->{starttime} if $st && $st->{state} ne 'Z' }
    return \%id;
}

# Those of the processes of identities() that are still alive.
sub still_alive {
    my ($id) = @_;
    return grep { my $st = proc_stat($_); $st && $st->{state} ne 'Z' && $st->{starttime} == $id->{$_} } sort keys %$id;
}

# Socket files (*.sock) currently in the socket directory.
sub sock_files {
    my ($self) = @_;
    opendir my $dh, $self->sockdir or return ();
    my @s = map { $self->sockdir . "/$_" } grep { /\.sock$/ } readdir $dh;
    closedir $dh;
    my @sorted = sort @s;
    return @sorted;
}

#----------------------------------------------------------------------------
# Waiting
#----------------------------------------------------------------------------

# wait_for(sub { ... }, $timeout, $interval) -> the callback's first true
# value, or undef after $timeout seconds.
sub wait_for {
    my ($cb, $timeout, $interval) = @_;
    $timeout  //= 15;
    $interval //= 0.1;
    my $deadline = time + $timeout;
    while (1) {
        my $v = $cb->();
        return $v if $v;
        return undef if time >= $deadline;
        sleep $interval;
    }
}

# $t->wait_ok($path, $timeout) -> response of the first 2xx answer, or undef.
sub wait_ok {
    my ($self, $path, $timeout) = @_;
    my $last;
    my $r = wait_for(sub {
        $last = $self->get($path, timeout => 5);
        return $last->{status} =~ /^2/ ? $last : undef;
    }, $timeout // 20, 0.2);
    return $r;
}

#----------------------------------------------------------------------------
# HTTP
#----------------------------------------------------------------------------

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or croak "cannot bind a free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# http_request(port => P, method => 'GET', path => '/x', headers => {..},
#              body => $bytes, timeout => 30, trace => 0)
# -> { status, reason, headers => {lc name => value}, body, elapsed (ms),
#      first_byte (ms), error, reads => [[ms, total_bytes], ...] (trace) }
# status 599 = client-side failure (connect, timeout, truncated response).
# One connection per request, "Connection: close".
sub http_request {
    my (%a) = @_;
    my $port    = $a{port} or croak 'port required';
    my $method  = $a{method} || 'GET';
    my $path    = $a{path} // '/';
    my $timeout = $a{timeout} // 30;
    my $body    = $a{body};
    my $t0 = time;
    my $deadline = $t0 + $timeout;
    my %res = (status => 599, headers => {}, body => '', error => '');
    my $ms = sub { sprintf('%.1f', (time - $t0) * 1000) + 0 };

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                     Proto => 'tcp', Timeout => $timeout);
    unless ($sock) {
        $res{error} = "connect: $!";
        $res{elapsed} = $ms->();
        return \%res;
    }
    binmode $sock;
    $sock->blocking(0);

    my $req = "$method $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\nConnection: close\r\n";
    my $h = $a{headers} || {};
    $req .= "$_: $h->{$_}\r\n" for sort keys %$h;
    if (defined $body) {
        $req .= 'Content-Length: ' . length($body) . "\r\n";
    }
    $req .= "\r\n";
    $req .= $body if defined $body;

    my $sel = IO::Select->new($sock);
    my $off = 0;
    my $len = length $req;
    while ($off < $len) {
        my $left = $deadline - time;
        if ($left <= 0) { $res{error} = 'timeout while sending'; last }
        next unless $sel->can_write($left);
        my $n = syswrite($sock, $req, 65536, $off);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $res{error} = "send: $!";
            last;
        }
        $off += $n;
    }

    my $raw = '';
    my @reads;
    my $eof = 0;
    # Even if sending failed, read what the server answered (it may have
    # rejected the request early).
    while (1) {
        my $left = $deadline - time;
        if ($left <= 0) { $res{error} ||= 'timeout while reading'; last }
        next unless $sel->can_read($left);
        my $n = sysread($sock, my $buf, 262144);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $res{error} ||= "recv: $!";
            last;
        }
        if ($n == 0) { $eof = 1; last }
        $res{first_byte} //= $ms->();
        $raw .= $buf;
        push @reads, [$ms->(), length $raw] if $a{trace};
    }
    close $sock;
    $res{elapsed} = $ms->();
    $res{reads} = \@reads if $a{trace};
    $res{raw_length} = length $raw;

    my $hend = index($raw, "\r\n\r\n");
    if ($hend < 0) {
        $res{error} ||= 'no complete response header (' . length($raw) . ' bytes)';
        $res{status} = 599;
        return \%res;
    }
    my $head = substr($raw, 0, $hend);
    my $rbody = substr($raw, $hend + 4);
    my @hl = split /\r\n/, $head;
    my $sl = shift @hl;
    unless ($sl =~ m{^HTTP/\d\.\d (\d{3})\s*(.*)$}) {
        $res{error} ||= "bad status line: $sl";
        return \%res;
    }
    my ($status, $reason) = ($1, $2);
    for (@hl) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        $res{headers}{$k} = exists $res{headers}{$k} ? "$res{headers}{$k}, $v" : $v;
    }
    if (($res{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
        my ($decoded, $complete) = _dechunk($rbody);
        $rbody = $decoded;
        $res{error} ||= 'truncated chunked body' unless $complete;
    } elsif (defined $res{headers}{'content-length'}
             && length($rbody) != $res{headers}{'content-length'}) {
        $res{error} ||= 'body length ' . length($rbody) . ' != Content-Length '
                        . $res{headers}{'content-length'};
    }
    $res{body} = $rbody;
    $res{reason} = $reason;
    # A truncated or timed-out response is a failure whatever its status.
    $res{status} = $res{error} && !$eof || $res{error} =~ /truncated|body length/ ? 599 : $status;
    $res{http_status} = $status;
    return \%res;
}

sub _dechunk {
    my ($in) = @_;
    my $out = '';
    my $pos = 0;
    while (1) {
        my $e = index($in, "\r\n", $pos);
        return ($out, 0) if $e < 0;
        my $line = substr($in, $pos, $e - $pos);
        $line =~ s/;.*//;
        return ($out, 0) unless $line =~ /^\s*([0-9a-fA-F]+)\s*$/;
        my $size = hex $1;
        $pos = $e + 2;
        return ($out, 1) if $size == 0;
        return ($out, 0) if $pos + $size > length $in;
        $out .= substr($in, $pos, $size);
        $pos += $size + 2;
    }
}

sub get {
    my ($self, $path, %o) = @_;
    return http_request(port => $self->{port}, method => 'GET', path => $path, %o);
}

sub post {
    my ($self, $path, $body, %o) = @_;
    return http_request(port => $self->{port}, method => 'POST', path => $path, body => $body, %o);
}

# Parse "KEY=VALUE" lines of a hello-style body into a hash.
sub kv {
    my ($body) = @_;
    my %h;
    for (split /\n/, $body // '') {
        $h{$1} = $2 if /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
    }
    return \%h;
}

#----------------------------------------------------------------------------
# Load generator
#----------------------------------------------------------------------------

# $t->load_start(%opt) -> $load
#   clients       number of client processes (default 4)
#   min_requests  total requests to do at least (split over clients)
#   until_stopped keep going (past min_requests) until load_finish()
#   max_seconds   hard bound per client (default 120)
#   path          '/x' or sub { my ($client, $i) = @_; return '/x?...' }
#   expect        regex the body of a 2xx answer must match (else bad body)
#   think_ms      pause between two requests of one client
#   timeout       per request (default 60 s)
# Each client records one line per request into its own file:
#   start_epoch  elapsed_ms  status  ok(0/1)  path  error
sub load_start {
    my ($self, %o) = @_;
    my $clients = $o{clients} || 4;
    my $per = $o{min_requests} ? ceil($o{min_requests} / $clients) : 0;
    my $max_s = $o{max_seconds} || 120;
    my $dir = "$self->{root}/load-" . ++$self->{load_seq};
    make_path($dir);
    my $stop = "$dir/stop";
    unless ($o{until_stopped}) {
        open my $fh, '>', $stop; close $fh;
    }
    my $path = $o{path} // '/';
    my $expect = $o{expect};
    my $think = ($o{think_ms} || 0) / 1000;
    my $timeout = $o{timeout} || 60;
    my $port = $self->{port};
    my $parent = $$;
    my @pids;
    for my $c (0 .. $clients - 1) {
        my $pid = fork;
        croak "fork: $!" unless defined $pid;
        if ($pid == 0) {
            # Client process: no Test::More, no END blocks.
            srand($$ ^ time);
            my $ok = open my $out, '>', "$dir/client-$c.log";
            POSIX::_exit(2) unless $ok;
            $out->autoflush(1);
            my $deadline = time + $max_s;
            my $i = 0;
            $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
            while (1) {
                last if time >= $deadline;
                last if $i >= $per && -e $stop;
                last if getppid() != $parent;      # the test is gone
                my $p = ref $path eq 'CODE' ? $path->($c, $i) : $path;
                my $start = time;
                my $r = http_request(port => $port, path => $p, timeout => $timeout);
                my $good = ($r->{status} =~ /^2\d\d$/
                            && (!$expect || $r->{body} =~ $expect)) ? 1 : 0;
                my $err = $r->{error} // '';
                $err = 'unexpected body: ' . substr($r->{body}, 0, 60)
                    if !$err && $r->{status} =~ /^2/ && !$good;
                $err =~ s/[\t\n\r]/ /g;
                printf {$out} "%.3f\t%.1f\t%s\t%d\t%s\t%s\n",
                    $start, $r->{elapsed}, $r->{status}, $good, $p, $err;
                $i++;
                sleep $think if $think > 0;
            }
            close $out;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    my $load = { dir => $dir, stop => $stop, pids => \@pids, clients => $clients,
                 started => time, max_seconds => $max_s, timeout => $timeout };
    push @{ $self->{loads} }, $load;
    return $load;
}

# $t->load_finish($load) -> summary
#   { total, ok, failed (599/connection), non2xx, bad_body, max_ms, p50_ms,
#     p99_ms, by_status => {}, errors => [first lines of bad requests],
#     records => [[start, ms, status, ok, path, err], ...] }
sub load_finish {
    my ($self, $load) = @_;
    unless (-e $load->{stop}) { open my $fh, '>', $load->{stop}; close $fh }
    my $bound = $load->{started} + $load->{max_seconds} + $load->{timeout} + 30;
    for my $pid (@{ $load->{pids} }) {
        while (1) {
            my $r = waitpid($pid, WNOHANG);
            last if $r == $pid || $r == -1;
            if (time > $bound) { kill 'KILL', $pid; waitpid($pid, 0); last }
            sleep 0.05;
        }
    }
    $load->{done} = 1;
    my %s = (total => 0, ok => 0, failed => 0, non2xx => 0, bad_body => 0,
             by_status => {}, errors => [], records => []);
    my @lat;
    for my $c (0 .. $load->{clients} - 1) {
        open my $fh, '<', "$load->{dir}/client-$c.log" or next;
        while (my $l = <$fh>) {
            chomp $l;
            my @f = split /\t/, $l, 6;
            next unless @f >= 5;
            push @{ $s{records} }, \@f;
            $s{total}++;
            $s{by_status}{ $f[2] }++;
            push @lat, $f[1];
            if ($f[3]) { $s{ok}++ }
            elsif ($f[2] == 599) { $s{failed}++ }
            elsif ($f[2] !~ /^2/) { $s{non2xx}++ }
            else { $s{bad_body}++ }
            push @{ $s{errors} }, "client $c: status $f[2] after $f[1] ms on $f[4]: " . ($f[5] // '')
                if !$f[3] && @{ $s{errors} } < 20;
        }
        close $fh;
    }
    @lat = sort { $a <=> $b } @lat;
    $s{max_ms} = @lat ? $lat[-1] : 0;
    $s{p50_ms} = @lat ? $lat[int($#lat * 0.5)] : 0;
    $s{p99_ms} = @lat ? $lat[int($#lat * 0.99)] : 0;
    return \%s;
}

sub load_summary_text {
    my ($s) = @_;
    my $st = join ' ', map { "$_:$s->{by_status}{$_}" } sort keys %{ $s->{by_status} };
    return sprintf("%d requests, %d ok, %d failed, %d non-2xx, %d bad body; status %s; "
                   . "p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                   @$s{qw(total ok failed non2xx bad_body)}, $st, @$s{qw(p50_ms p99_ms max_ms)});
}

#----------------------------------------------------------------------------
# Privilege helper
#----------------------------------------------------------------------------

# connect_as($user, $socket_path) -> 1 connected, 0 refused (EACCES/EPERM),
# -1 other error.  Forks, drops to $user's uid/gid, tries to connect.
sub connect_as {
    my ($self, $user, $path) = @_;
    my @pw = getpwnam($user) or croak "no user $user";
    my ($uid, $gid) = @pw[2, 3];
    my $pid = fork;
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        POSIX::setgid($gid) or POSIX::_exit(90);
        $) = "$gid $gid";
        POSIX::setuid($uid) or POSIX::_exit(91);
        POSIX::_exit(92) if $< != $uid || $> != $uid;
        my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path);
        POSIX::_exit(0) if $s;
        POSIX::_exit(($!{EACCES} || $!{EPERM}) ? 1 : 2);
    }
    waitpid($pid, 0);
    my $code = $? >> 8;
    return 1 if $code == 0;
    return 0 if $code == 1;
    return -1;
}

#----------------------------------------------------------------------------
# Cleanup
#----------------------------------------------------------------------------

sub cleanup {
    my ($self) = @_;
    return if $self->{cleaned}++;
    return if $$ != $self->{owner};
    local ($?, $!, $@);

    # Stop any unfinished load generator.
    for my $load (@{ $self->{loads} }) {
        next if $load->{done};
        kill 'KILL', @{ $load->{pids} };
        waitpid($_, 0) for @{ $load->{pids} };
    }

    # Stop httpd: SIGTERM to the recorded parent (no config parsing needed).
    my $hp = $self->httpd_pid;
    if ($hp) {
        $self->_remember_tree;
        _audit_kill('TERM', $hp);
        kill 'TERM', $hp;
        wait_for(sub { !pid_alive($hp) }, 20, 0.1);
    }
    # Give the manager its ShutdownTimeout to retire the workers by itself.
    wait_for(sub { !$self->our_processes }, 15, 0.1);
    # Whatever is left of ours: SIGKILL by pid.
    for my $round (1 .. 3) {
        my @left = $self->our_processes;
        last unless @left;
        Test::More::diag("cleanup: killing leftover processes: "
                         . join(', ', map { "$_ (" . (proc_cmdline($_) // '?') . ")" } @left))
            if $round == 1 && $INC{'Test/More.pm'};
        _audit_kill('KILL', @left);
        kill 'KILL', @left;
        wait_for(sub { !grep { pid_alive($_) } @left }, 5, 0.05);
    }
    if ($self->{keep}) {
        if (open my $fh, '>', "$self->{root}/KEPT") { close $fh }
        Test::More::diag("FCGI_PM_KEEP: kept $self->{root}") if $INC{'Test/More.pm'};
    } else {
        remove_tree($self->{root});
    }
}

# kill_pid($sig, $pid): signal one process of the server under test.
# Refuses (croaks) anything but a single live pid > 1 outside the test's own
# session, so that an undefined pid can never become kill(0) (our process
# group).
sub kill_pid {
    my ($sig, $pid) = @_;
    croak "kill_pid: bad pid " . ($pid // 'undef') unless defined $pid && $pid =~ /^\d+$/ && $pid > 1;
    my $st = proc_stat($pid) or croak "kill_pid: no process $pid";
    my $my_sid = (proc_stat($$) || {})->{sid} // -1;
    croak "kill_pid: $pid is in the test's own session" if $st->{sid} == $my_sid;
    _audit_kill($sig, $pid);
    return kill $sig, $pid;
}

# FCGI_PM_KILL_LOG=FILE: append one line per process the cleanup signals.
sub _audit_kill {
    my ($sig, @pids) = @_;
    my $f = $ENV{FCGI_PM_KILL_LOG} or return;
    open my $fh, '>>', $f or return;
    for my $p (@pids) {
        my $st = proc_stat($p) || {};
        printf {$fh} "%.3f %s pid=%d sig=%s target=%d sid=%s ppid=%s cmd=%s\n", time, $0, $$, $sig, $p,
            $st->{sid} // '?', $st->{ppid} // '?', proc_cmdline($p) // '?';
    }
    close $fh;
}

sub DESTROY { }

END {
    if ($$ == $OWNER_PID) {
        local $?;
        my $failing = $INC{'Test/Builder.pm'} && !Test::Builder->new->is_passing;
        for my $t (values %INSTANCES) {
            if ($failing && !$t->{cleaned} && -s $t->logfile) {
                Test::More::diag("test failed; " . $t->log_tail(60));
            }
            eval { $t->cleanup };
            warn "cleanup of $t->{root}: $@" if $@;
        }
    }
}

1;
