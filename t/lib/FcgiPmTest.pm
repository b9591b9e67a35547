# SPDX-License-Identifier: Apache-2.0
package FcgiPmTest;

# Test harness for mod_fcgi_pm: the server object (a private httpd's
# lifecycle, its generated configuration, the processes it owns and their
# cleanup).  The plumbing it shares with bench/run lives beside it:
#   FcgiPmTest::HTTP   the raw HTTP client (http_request), free_port, kv
#   FcgiPmTest::Proc   /proc readers (proc_stat, all_procs, pid_alive, ...)
#   FcgiPmTest::Load   the load generator behind load_start/load_finish
# Every name this module exported before that split it still exports (it
# re-exports them), and FcgiPmTest::NAME still works for each of them.
# bench/run uses the server object too (one per contender), with the
# knobs new() and conf_text() list for it.
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
use Exporter 'import';
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Socket::UNIX;
use POSIX qw(:sys_wait_h ceil);
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(time sleep);

# Imported for use here and so that the names the harness had before the
# split stay callable as FcgiPmTest::NAME (tests call several that way).
use FcgiPmTest::HTTP qw(http_request free_port tcp_port_open kv);
use FcgiPmTest::Proc qw(
    pid_alive proc_stat proc_cmdline proc_status proc_environ proc_cwd
    all_pids all_procs descendants identities still_alive
);
use FcgiPmTest::Load qw(
    start_clients finish_clients abort_clients summarize_records load_summary_text
);

# Private before the split, kept callable under its old name all the same.
*_dechunk = \&FcgiPmTest::HTTP::_dechunk;

our @EXPORT_OK = qw(
    app_conf many_apps_conf
    http_request build_app repo_dir module_path apache_bin
    proc_stat proc_cmdline proc_status all_procs pid_alive free_port
    wait_for has_go
    start_command wait_command pid_from_file
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
# Knobs bench/run uses (tests leave them alone):
#   template    tempdir template of the server root (default fcgipm-XXXXXX;
#               the janitor only ever looks at roots of the default shape)
#   module_src  the mod_fcgi_pm.so to copy into the root and load, even
#               when FCGI_PM_MODULE is set (the bench's run-wide snapshot)
#   keep        keep the server root at cleanup (default: FCGI_PM_KEEP)
#   cmd_poll    how often apache_cmd/configtest look whether the command
#               has finished (default 0.05 s; the bench times -k graceful)
sub new {
    my ($class, %opt) = @_;
    croak "tests must run as root (httpd switches to www-data)" if $> != 0;

    my $keep = exists $opt{keep} ? ($opt{keep} ? 1 : 0) : ($ENV{FCGI_PM_KEEP} ? 1 : 0);
    my $root = tempdir($opt{template} // 'fcgipm-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    chmod 0755, $root or croak "chmod $root: $!";
    $root = abs_path($root);

    my $self = bless {
        root       => $root,
        keep       => $keep,
        mpm        => $opt{mpm} || 'event',
        module     => exists $opt{module} ? $opt{module} : 1,
        proxy_fcgi => exists $opt{proxy_fcgi} ? $opt{proxy_fcgi} : 1,
        env        => $opt{env} || {},
        module_src => $opt{module_src},
        cmd_poll   => $opt{cmd_poll} || 0.05,
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
        my $src = $self->{module_src} // module_path();
        croak "mod_fcgi_pm not found at $src (build it: make -f Makefile.apxs, or set FCGI_PM_MODULE)"
            unless -f $src;
        if (!$ENV{FCGI_PM_MODULE} || $self->{module_src}) {
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
#   mutex                     the Mutex line's mechanism (default file:ROOT/run)
#   log_format                the access log's format (default: client,
#                             time, request line, status, bytes, %D)
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
    # module_src (the bench's snapshot) wins over both.
    my $modpath = ($self->{module_src} && $self->{module_copy})
                  || $ENV{FCGI_PM_MODULE} || $self->{module_copy} || module_path();
    my $mutex = $opt{mutex} // "file:$root/run";
    (my $log_format = $opt{log_format} // '%h %{%s}t.%{msec_frac}t "%r" %>s %b %D') =~ s/(["\\])/\\$1/g;

    my $c = '';
    $c .= "# generated by t/lib/FcgiPmTest.pm\n";
    $c .= "ServerRoot \"$root\"\n";
    $c .= "Listen 127.0.0.1:$port\n";
    $c .= "PidFile \"$root/run/httpd.pid\"\n";
    $c .= "DefaultRuntimeDir \"$root/run\"\n";
    $c .= "Mutex $mutex default\n";
    $c .= "ErrorLog \"$root/logs/error.log\"\n";
    $c .= "LogLevel $loglevel\n";
    $c .= "LogFormat \"$log_format\" timing\n";
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

# many_apps_conf(apps => N, command => PATH, lines => [...], locations => [I, ...])
# -> N <FcgiPmApp aI> blocks (I = 0 .. N-1), each "Command PATH --app=aI"
# (the argument tells the apps apart in the process list) and @lines
# (default: Processes 0, IdleTimeout 300), and a <Location /aI> passing to
# each app listed in locations.  t/33-many-apps.t and bench/run (apps5k).
sub many_apps_conf {
    my (%o) = @_;
    my $n = $o{apps} or croak 'many_apps_conf: apps required';
    my $cmd = $o{command} or croak 'many_apps_conf: command required';
    my @lines = @{ $o{lines} || ['Processes 0', 'IdleTimeout 300'] };
    my $body = join '', map { "    $_\n" } @lines;
    my $c = '';
    $c .= "<FcgiPmApp a$_>\n    Command $cmd --app=a$_\n$body</FcgiPmApp>\n" for 0 .. $n - 1;
    $c .= "<Location /a$_>\n    FcgiPmPass a$_\n</Location>\n" for @{ $o{locations} || [] };
    return $c;
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

# The PATH every command runs with (their environment is built, not
# inherited).
our $CLEAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

# start_command(cmd => [...], output => FILE, env => {..}, append => 0,
#               setsid => 0) -> pid of the child running the command
# The command gets exactly %env as its environment, stdin from /dev/null,
# stdout and stderr into FILE: a file, not a pipe, so that a stray daemon
# holding the descriptor cannot hang the caller.  setsid: in a session of
# its own.  Shared with bench/run (apache2 -k, wrk, php-fpm).
sub start_command {
    my (%o) = @_;
    my @cmd = @{ $o{cmd} || croak 'start_command: cmd required' };
    my $out = $o{output} // croak 'start_command: output required';
    my %env = %{ $o{env} || {} };
    my $pid = fork;
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        # The caller's handlers and ignored signals are not the command's.
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE);
        POSIX::setsid() if $o{setsid};
        %ENV = %env;
        open STDIN, '<', '/dev/null';
        open STDOUT, ($o{append} ? '>>' : '>'), $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec @cmd or POSIX::_exit(127);
    }
    return $pid;
}

# wait_command($pid, $deadline [, $interval]) -> exit code of a child of
# start_command (128 + N if killed by signal N), or -1 if it was still
# running at $deadline (epoch seconds): then it is SIGKILLed and reaped.
sub wait_command {
    my ($pid, $deadline, $interval) = @_;
    croak 'wait_command: bad pid ' . ($pid // 'undef') unless defined $pid && $pid =~ /^\d+$/ && $pid > 1;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) {
            my $status = $?;
            return ($status & 127) ? 128 + ($status & 127) : $status >> 8;
        }
        return -1 if $r == -1;                  # not (or no longer) our child
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            return -1;
        }
        sleep($interval // 0.05);
    }
}

# Run a command with a clean environment (see start_command), bounded by
# $timeout seconds.  Returns ($exit_code, $output).
sub _run {
    my ($self, $timeout, @cmd) = @_;
    $timeout ||= 60;
    my $out = "$self->{root}/run/cmd-output.$$." . int(rand(1e9));
    my %env = (
        PATH => $CLEAN_PATH,
        LANG => 'C',
        sanitizer_env(),
        %{ $self->{env} },
    );
    my $pid = start_command(cmd => \@cmd, output => $out, env => \%env);
    my $code = wait_command($pid, time + $timeout, $self->{cmd_poll} || 0.05);
    my $text = '';
    if (open my $fh, '<', $out) { local $/; $text = <$fh> // ''; close $fh }
    unlink $out;
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

# pid_from_file($path) -> the number on the first line of a pid file, or undef.
sub pid_from_file {
    my ($path) = @_;
    open my $fh, '<', $path or return undef;
    my $l = <$fh>;
    close $fh;
    return undef unless defined $l && $l =~ /^\s*(\d+)/;
    return $1;
}

sub _read_pidfile { my ($self) = @_; return pid_from_file($self->pidfile) }

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

sub port_open { my ($self) = @_; return tcp_port_open($self->{port}) }

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
# The server's processes (the /proc readers are in FcgiPmTest::Proc)
#----------------------------------------------------------------------------

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
    for my $pid (all_pids()) {
        next if $pid == $$;
        my $cwd = proc_cwd($pid);
        my $hit = defined $cwd && index("$cwd/", $wd) == 0;
        unless ($hit) {
            my $env = proc_environ($pid);
            $hit = defined $env && index("\0$env\0", $needle) >= 0;
        }
        next unless $hit;
        my $st = proc_stat($pid) or next;
        push @p, $pid if $st->{state} ne 'Z';
    }
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
# HTTP (the client is FcgiPmTest::HTTP's http_request)
#----------------------------------------------------------------------------

sub get {
    my ($self, $path, %o) = @_;
    return http_request(port => $self->{port}, method => 'GET', path => $path, %o);
}

sub post {
    my ($self, $path, $body, %o) = @_;
    return http_request(port => $self->{port}, method => 'POST', path => $path, body => $body, %o);
}

#----------------------------------------------------------------------------
# Load generator
#----------------------------------------------------------------------------

# $t->load_start(%opt) -> $load   (clients run FcgiPmTest::Load)
#   clients       number of client processes (default 4)
#   min_requests  total requests to do at least (split over clients)
#   until_stopped keep going (past min_requests) until load_finish()
#   max_seconds   hard bound per client (default 120)
#   path          '/x' or sub { my ($client, $i) = @_; return '/x?...' }
#   expect        regex the body of a 2xx answer must match (else bad body)
#   think_ms      pause between two requests of one client
#   timeout       per request (default 60 s)
#   headers       { Name => value } sent with every request (Authorization)
# Each client records one line per request into its own file:
#   start_epoch  elapsed_ms  status  ok(0/1)  path  error
sub load_start {
    my ($self, %o) = @_;
    my $clients = $o{clients} || 4;
    my $port = $self->{port};
    my $headers = $o{headers};
    my $load = start_clients(
        port => $self->{port}, dir => "$self->{root}/load-" . ++$self->{load_seq},
        clients => $clients,
        per_client => $o{min_requests} ? ceil($o{min_requests} / $clients) : 0,
        until_stopped => $o{until_stopped}, max_seconds => $o{max_seconds} || 120,
        path => $o{path} // '/', expect => $o{expect}, think_ms => $o{think_ms},
        timeout => $o{timeout} || 60,
        request => $headers ? sub {
            http_request(port => $port, path => $_[0], timeout => $o{timeout} || 60,
                         headers => $headers)
        } : undef);
    # The cleanup ends the loads that were never finished.
    push @{ $self->{loads} }, $load;
    return $load;
}

# $t->slow_hello_load($location, $clients, $sleep_ms) -> load handle
# CLIENTS clients sending requests of SLEEP_MS to the hello test app at
# LOCATION ("/dyn") until load_finish(); a 2xx must come from hello.
sub slow_hello_load {
    my ($self, $location, $clients, $sleep_ms) = @_;
    return $self->load_start(
        clients => $clients, until_stopped => 1, max_seconds => 90, timeout => 30,
        expect  => qr/^APP=hello-c$/m,
        path    => sub { my ($c, $i) = @_; return "$location/x?sleep=$sleep_ms&c=$c&i=$i" },
    );
}

# $t->load_finish($load) -> summary (see FcgiPmTest::Load::summarize_records)
#   { total, ok, failed (599/connection), non2xx, bad_body, max_ms, p50_ms,
#     p99_ms, by_status => {}, errors => [first lines of bad requests],
#     records => [[start, ms, status, ok, path, err], ...] }
sub load_finish {
    my ($self, $load) = @_;
    return summarize_records(finish_clients($load));
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

    # Stop any unfinished load generator (only its own client pids).
    abort_clients($_) for @{ $self->{loads} };

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
