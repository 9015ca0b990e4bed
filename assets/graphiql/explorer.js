// admin-center's GraphiQL page: starts the vendored GraphiQL (see README.md beside this file)
// with a sign-in panel. Plain JavaScript as browsers run it, no build step:
// React.createElement stands where JSX would.
//
// The token of the tab (a session from `login`, or a pasted app access token) lives in
// sessionStorage: it survives a reload, is gone with the tab, and is never written to
// localStorage (GraphiQL keeps tabs and history there; headers stay out of it, see `STORAGE`).
// Every request GraphiQL sends carries it as `Authorization: Bearer …`, and the headers editor
// shows it.
(function () {
  'use strict';

  var h = React.createElement;
  var ui = GraphiQL.React;
  var mount = document.getElementById('graphiql');
  var endpoint = mount.getAttribute('data-endpoint');

  // GraphiQL's dialogs (settings, keyboard shortcuts) add a <style> element through
  // react-remove-scroll, which takes its nonce from this global. The page's CSP allows inline
  // styles only with this response's nonce (src/http/graphiql.rs, `page_policy`).
  var nonce = document.querySelector('meta[name="style-nonce"]');
  if (nonce) window.__webpack_nonce__ = nonce.getAttribute('content');

  // ---- the token of this tab ------------------------------------------------------------

  var STORAGE_KEY = 'admin-center:auth';
  var SIGNED_OUT = { token: null };

  // { token, kind: 'session' | 'app', login, managerKind, restriction, expiresAt } or SIGNED_OUT;
  // `notice` says why the last token was dropped.
  function load() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || 'null');
      if (stored && typeof stored.token === 'string' && stored.token) return stored;
    } catch (e) {
      // Unreadable: start signed out.
    }
    return SIGNED_OUT;
  }

  var auth = {
    state: load(),
    listeners: [],
    set: function (next) {
      auth.state = next;
      try {
        if (next.token) {
          var stored = Object.assign({}, next);
          delete stored.notice;
          window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
        } else {
          window.sessionStorage.removeItem(STORAGE_KEY);
        }
      } catch (e) {
        // Storage refused (private mode quotas): the token still works until reload.
      }
      auth.listeners.slice().forEach(function (listener) {
        listener();
      });
    },
    subscribe: function (listener) {
      auth.listeners.push(listener);
      return function () {
        auth.listeners = auth.listeners.filter(function (l) {
          return l !== listener;
        });
      };
    },
  };

  function useAuth() {
    return React.useSyncExternalStore(auth.subscribe, function () {
      return auth.state;
    });
  }

  function bearer(token) {
    return 'Bearer ' + token;
  }

  // ---- talking to the API ---------------------------------------------------------------

  // A failed call: `errors` as the server gave them, each { message, code }.
  function ApiError(errors) {
    this.errors = errors;
  }

  function request(query, variables, token) {
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers.authorization = bearer(token);
    return window
      .fetch(endpoint, {
        method: 'POST',
        headers: headers,
        body: JSON.stringify({ query: query, variables: variables || {} }),
      })
      .catch(function (error) {
        throw new ApiError([{ message: 'the server did not answer: ' + error.message, code: null }]);
      })
      .then(function (response) {
        return response.json().catch(function () {
          throw new ApiError([{ message: 'HTTP ' + response.status + ' without a GraphQL answer', code: null }]);
        });
      })
      .then(function (body) {
        if (body.errors && body.errors.length) {
          throw new ApiError(
            body.errors.map(function (e) {
              return { message: e.message, code: (e.extensions && e.extensions.code) || null };
            }),
          );
        }
        return body.data;
      });
  }

  var SESSION_FIELDS = 'token expiresAt restriction manager { login kind }';

  function signedIn(payload, extra) {
    auth.set(
      Object.assign(
        {
          token: payload.token,
          kind: 'session',
          login: payload.manager.login,
          managerKind: payload.manager.kind,
          restriction: payload.restriction,
          expiresAt: payload.expiresAt,
        },
        extra || {},
      ),
    );
  }

  // GraphiQL's fetcher: its requests carry the tab's token unless the headers editor sets
  // `Authorization` itself. A 401 to the tab's token means the token is dead (expired,
  // revoked, or the password changed elsewhere): the panel forgets it and says so.
  function fetcher(params, options) {
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    var own = (options && options.headers) || {};
    var sent = auth.state.token;
    var hasOwn = Object.keys(own).some(function (name) {
      return name.toLowerCase() === 'authorization';
    });
    if (sent && !hasOwn) headers.authorization = bearer(sent);
    Object.assign(headers, own);
    return window
      .fetch(endpoint, { method: 'POST', headers: headers, body: JSON.stringify(params) })
      .then(function (response) {
        var usedOurs = sent && (!hasOwn || headerValue(own, 'authorization') === bearer(sent));
        if (response.status === 401 && usedOurs && auth.state.token === sent) {
          auth.set({ token: null, notice: 'The server refused the token (expired or revoked). Sign in again.' });
        }
        return response.json();
      });
  }

  function headerValue(headers, name) {
    var key = Object.keys(headers).find(function (k) {
      return k.toLowerCase() === name;
    });
    return key === undefined ? undefined : headers[key];
  }

  // ---- the headers editor follows the token ---------------------------------------------

  // Writes the tab's token into the headers editor of the GraphiQL tab in view (on sign-in,
  // sign-out and when another GraphiQL tab is opened), keeping any other header there.
  // Headers that are not a JSON object are left as they are.
  function useHeadersFollowToken(token) {
    var editors = ui.useEditorContext({ nonNull: true });
    var editor = editors.headerEditor;
    React.useEffect(
      function () {
        if (!editor) return;
        var text = editor.getValue();
        var headers;
        try {
          headers = text.trim() ? JSON.parse(text) : {};
        } catch (e) {
          return;
        }
        if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return;
        var next = {};
        Object.keys(headers).forEach(function (name) {
          if (name.toLowerCase() !== 'authorization') next[name] = headers[name];
        });
        if (token) next.Authorization = bearer(token);
        var wanted = Object.keys(next).length ? JSON.stringify(next, null, 2) : '';
        if (wanted !== text) editor.setValue(wanted);
      },
      [editor, editors.activeTabIndex, token],
    );
  }

  function headersFor(token) {
    return token ? JSON.stringify({ Authorization: bearer(token) }, null, 2) : '';
  }

  // ---- the sign-in panel ------------------------------------------------------------------

  function KeyIcon(props) {
    return h(
      'svg',
      {
        className: props && props.className,
        viewBox: '0 0 24 24',
        fill: 'none',
        stroke: 'currentColor',
        strokeWidth: 1.5,
        'aria-hidden': 'true',
      },
      h('circle', { cx: 8, cy: 15, r: 4 }),
      h('path', { d: 'M10.8 12.2 20 3m-3 3 3 3m-6 0 2 2', strokeLinecap: 'round', strokeLinejoin: 'round' }),
    );
  }

  function Errors(props) {
    if (!props.errors || !props.errors.length) return null;
    return h(
      'div',
      { className: 'explorer-errors', role: 'alert' },
      props.errors.map(function (e, i) {
        return h(
          'p',
          { key: i },
          e.message,
          e.code ? h('code', { className: 'explorer-code' }, e.code) : null,
        );
      }),
    );
  }

  function Field(props) {
    return h(
      'label',
      { className: 'explorer-field' },
      h('span', null, props.label),
      h('input', {
        name: props.name,
        type: props.type || 'text',
        autoComplete: props.autoComplete || 'off',
        required: props.required !== false,
        value: props.value,
        onChange: function (event) {
          props.onChange(event.target.value);
        },
      }),
    );
  }

  // A form whose submit runs `action` (a promise) and shows what the server said if it fails.
  function useSubmit(action) {
    var busyState = React.useState(false);
    var errorsState = React.useState(null);
    function onSubmit(event) {
      event.preventDefault();
      if (busyState[0]) return;
      busyState[1](true);
      errorsState[1](null);
      Promise.resolve()
        .then(action)
        .catch(function (error) {
          errorsState[1](
            error instanceof ApiError ? error.errors : [{ message: String(error), code: null }],
          );
        })
        .then(function () {
          busyState[1](false);
        });
    }
    return { busy: busyState[0], errors: errorsState[0], onSubmit: onSubmit };
  }

  function SignInForm() {
    var login = React.useState('');
    var password = React.useState('');
    var submit = useSubmit(function () {
      return request(
        'mutation SignIn($login: String!, $password: String!) { login(login: $login, password: $password) { ' +
          SESSION_FIELDS + ' } }',
        { login: login[0], password: password[0] },
      ).then(function (data) {
        // The password is kept in memory only, for a forced password change right after.
        currentPassword = password[0];
        signedIn(data.login);
      });
    });
    return h(
      'form',
      { className: 'explorer-form', 'aria-label': 'Sign in', onSubmit: submit.onSubmit },
      h('h3', null, 'Sign in as a manager'),
      h(Field, { label: 'Login', name: 'login', autoComplete: 'username', value: login[0], onChange: login[1] }),
      h(Field, {
        label: 'Password',
        name: 'password',
        type: 'password',
        autoComplete: 'current-password',
        value: password[0],
        onChange: password[1],
      }),
      h(Errors, { errors: submit.errors }),
      h(ui.Button, { type: 'submit', disabled: submit.busy }, submit.busy ? 'Signing in…' : 'Sign in'),
    );
  }

  function AppTokenForm() {
    var token = React.useState('');
    var submit = useSubmit(function () {
      var pasted = token[0].trim().replace(/^bearer\s+/i, '');
      return request('query WhoAmI { me { login kind } }', {}, pasted).then(function (data) {
        currentPassword = null;
        auth.set({
          token: pasted,
          kind: 'app',
          login: data.me ? data.me.login : null,
          managerKind: data.me ? data.me.kind : null,
          restriction: 'NONE',
        });
      });
    });
    return h(
      'form',
      { className: 'explorer-form', 'aria-label': 'Use an app access token', onSubmit: submit.onSubmit },
      h('h3', null, 'Or use an app access token'),
      h(
        'p',
        { className: 'explorer-hint' },
        'An OAuth access token a developer app received for an API manager: requests then see what that app may do.',
      ),
      h(Field, { label: 'Access token', name: 'access-token', value: token[0], onChange: token[1] }),
      h(Errors, { errors: submit.errors }),
      h(ui.Button, { type: 'submit', disabled: submit.busy }, 'Use this token'),
    );
  }

  // Held in memory (never stored) between `login` and a forced `changePassword`, so the
  // person does not type it twice. After a reload the form asks for it.
  var currentPassword = null;

  function PasswordChangeForm() {
    var remembered = currentPassword;
    var current = React.useState('');
    var next = React.useState('');
    var again = React.useState('');
    var submit = useSubmit(function () {
      if (next[0] !== again[0]) {
        throw new ApiError([{ message: 'the two new passwords differ', code: null }]);
      }
      return request(
        'mutation ChangePassword($currentPassword: String!, $newPassword: String!) { ' +
          'changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { ' +
          SESSION_FIELDS + ' } }',
        { currentPassword: remembered || current[0], newPassword: next[0] },
        auth.state.token,
      ).then(function (data) {
        currentPassword = null;
        signedIn(data.changePassword);
      });
    });
    return h(
      'form',
      { className: 'explorer-form', 'aria-label': 'Change password', onSubmit: submit.onSubmit },
      h('h3', null, 'Choose a new password'),
      h(
        'p',
        { className: 'explorer-hint' },
        'This password must be replaced before anything else (8 to 128 characters, three of: ' +
          'upper case, lower case, digit, symbol; not the login or the name).',
      ),
      remembered
        ? null
        : h(Field, {
            label: 'Current password',
            name: 'current-password',
            type: 'password',
            autoComplete: 'current-password',
            value: current[0],
            onChange: current[1],
          }),
      h(Field, {
        label: 'New password',
        name: 'new-password',
        type: 'password',
        autoComplete: 'new-password',
        value: next[0],
        onChange: next[1],
      }),
      h(Field, {
        label: 'New password again',
        name: 'new-password-again',
        type: 'password',
        autoComplete: 'new-password',
        value: again[0],
        onChange: again[1],
      }),
      h(Errors, { errors: submit.errors }),
      h(ui.Button, { type: 'submit', disabled: submit.busy }, 'Change password'),
    );
  }

  function EmailValidationForm() {
    var code = React.useState('');
    var submit = useSubmit(function () {
      return request(
        'mutation ValidateEmail($code: String!) { validateEmail(code: $code) { ' + SESSION_FIELDS + ' } }',
        { code: code[0].trim() },
        auth.state.token,
      ).then(function (data) {
        signedIn(data.validateEmail);
      });
    });
    return h(
      'form',
      { className: 'explorer-form', 'aria-label': 'Validate e-mail', onSubmit: submit.onSubmit },
      h('h3', null, 'Validate your e-mail address'),
      h(
        'p',
        { className: 'explorer-hint' },
        'A code was mailed to your address. (With MAIL_TRANSPORT=log it is in the server\u2019s log.)',
      ),
      h(Field, { label: 'Code', name: 'code', value: code[0], onChange: code[1] }),
      h(Errors, { errors: submit.errors }),
      h(ui.Button, { type: 'submit', disabled: submit.busy }, 'Validate'),
    );
  }

  function SignOut(props) {
    var state = props.state;
    var submit = useSubmit(function () {
      currentPassword = null;
      if (state.kind !== 'session') {
        auth.set(SIGNED_OUT);
        return;
      }
      // The session ends on the server; the token is forgotten here whatever it answers
      // (a session that already ended answers UNAUTHENTICATED).
      return request('mutation SignOut { logout }', {}, state.token)
        .catch(function () {})
        .then(function () {
          auth.set(SIGNED_OUT);
        });
    });
    return h(
      'form',
      { className: 'explorer-form', onSubmit: submit.onSubmit },
      h(Errors, { errors: submit.errors }),
      h(
        ui.Button,
        { type: 'submit', disabled: submit.busy },
        state.kind === 'session' ? 'Sign out' : 'Forget this token',
      ),
      state.kind === 'session'
        ? null
        : h(
            'p',
            { className: 'explorer-hint' },
            'The token still works elsewhere until it expires; revoke the app ' +
              '(revokeApiManagerApplications) to stop it for good.',
          ),
    );
  }

  function Status(props) {
    var state = props.state;
    var tail = state.token.slice(-8);
    return h(
      'div',
      { className: 'explorer-status', 'aria-live': 'polite' },
      h(
        'p',
        { className: 'explorer-who' },
        state.kind === 'session' ? 'Signed in as ' : 'App token for ',
        h('strong', null, state.login || 'unknown'),
        state.managerKind ? ' (' + state.managerKind.toLowerCase() + ' manager)' : null,
      ),
      state.expiresAt
        ? h('p', { className: 'explorer-hint' }, 'Session ends ' + new Date(state.expiresAt).toLocaleString() + '.')
        : null,
      h(
        'p',
        { className: 'explorer-hint' },
        'Every request carries ',
        h('code', null, 'Authorization: Bearer \u2026' + tail),
        ' (see Headers below the query).',
      ),
    );
  }

  function SignInPanel() {
    var state = useAuth();
    var body;
    if (!state.token) {
      body = [
        state.notice ? h('p', { key: 'notice', className: 'explorer-notice', role: 'status' }, state.notice) : null,
        h(SignInForm, { key: 'sign-in' }),
        h(AppTokenForm, { key: 'app-token' }),
      ];
    } else {
      var step = null;
      if (state.restriction === 'PASSWORD_CHANGE') step = h(PasswordChangeForm, { key: 'password' });
      if (state.restriction === 'EMAIL_VALIDATION') step = h(EmailValidationForm, { key: 'email' });
      body = [h(Status, { key: 'status', state: state }), step, h(SignOut, { key: 'sign-out', state: state })];
    }
    return h(
      'div',
      { className: 'explorer-panel' },
      h('div', { className: 'graphiql-doc-explorer-title' }, state.token ? 'Signed in' : 'Sign in'),
      body,
    );
  }

  var SIGN_IN_PLUGIN = { title: 'Sign in', icon: KeyIcon, content: SignInPanel };
  var PLUGINS = [SIGN_IN_PLUGIN];

  // Opens the panel the way GraphiQL's sidebar does (its button also un-hides the resizable
  // pane, which `setVisiblePlugin` alone leaves hidden).
  function openPanel() {
    var button = document.querySelector('.graphiql-sidebar button[aria-label="Show ' + SIGN_IN_PLUGIN.title + '"]');
    if (button) button.click();
  }

  // Which side panel was open, for the next load of this tab (GraphiQL 3 does not remember
  // it): a newcomer starts with the sign-in panel.
  var PANEL_KEY = 'admin-center:panel';
  function rememberPanel(plugin) {
    try {
      window.sessionStorage.setItem(PANEL_KEY, plugin ? plugin.title : '');
    } catch (e) {
      // Not remembered, then.
    }
  }
  function startPanel() {
    var stored = null;
    try {
      stored = window.sessionStorage.getItem(PANEL_KEY);
    } catch (e) {
      // As for a newcomer.
    }
    if (stored === null) return SIGN_IN_PLUGIN.title;
    return stored || undefined;
  }

  // In GraphiQL's toolbar: who is signed in; opens the panel. Always mounted, so it is also
  // where the headers editor is kept in step with the token.
  function AuthButton() {
    var state = useAuth();
    var schema = ui.useSchemaContext({ nonNull: true });
    useHeadersFollowToken(state.token);
    // With ANONYMOUS_INTROSPECTION=false the schema could not be read before signing in.
    var first = React.useRef(true);
    React.useEffect(
      function () {
        if (first.current) {
          first.current = false;
          return;
        }
        if (state.token && !schema.schema) schema.introspect();
      },
      [state.token],
    );
    var label = state.token ? 'Signed in as ' + (state.login || '?') + ': open the sign-in panel' : 'Sign in';
    return h(
      ui.ToolbarButton,
      {
        label: label,
        className: state.token ? 'explorer-signed-in' : 'explorer-signed-out',
        onClick: openPanel,
      },
      h(KeyIcon, { className: 'graphiql-toolbar-icon' }),
    );
  }

  // ---- what a newcomer sees first ---------------------------------------------------------

  var EXAMPLES = [
    '# admin-center GraphiQL',
    '#',
    '# Sign in with the key button (left, or in the toolbar): the panel keeps the token for',
    '# this browser tab and every request sends it (see Headers, below). Run an operation with',
    '# Ctrl-Enter or the play button and pick it from the list. Ids come from the answers.',
    '',
    '# Who am I?',
    'query Me {',
    '  me { id login name kind }',
    '}',
    '',
    '# The teams I can see, 20 at a time (`after: endCursor` for the next page).',
    'query Teams {',
    '  teams(first: 20) {',
    '    totalCount',
    '    nodes { id name parent { id name } }',
    '    pageInfo { hasNextPage endCursor }',
    '  }',
    '}',
    '',
    '# The managers, and the apps each API manager has authorized.',
    'query Managers {',
    '  managers(first: 20) {',
    '    nodes {',
    '      id login kind',
    '      authorizedApplications { application { id name } scopes lastUsedAt }',
    '    }',
    '  }',
    '}',
    '',
    '# What a manager may do on a team, exactly as the server enforces it (its own rights,',
    '# the team\'s managerFeatures and whether it is assigned to the team; SPEC 4.4).',
    '# Put in ids from Managers and Teams.',
    'query ManagerRightsOnTeam {',
    '  manager(id: "MANAGER_ID") {',
    '    login',
    '    effectiveRights(teamId: "TEAM_ID") {',
    '      addDeleteSubteams addDeleteReps changeRepNameLogin changeRepPassword',
    '    }',
    '  }',
    '}',
    '',
    '# Revoke apps an API manager authorized (ids from Managers): their tokens stop working',
    '# at once.',
    'mutation RevokeApps {',
    '  revokeApiManagerApplications(managerId: "API_MANAGER_ID", appIds: ["APPLICATION_ID"]) {',
    '    login',
    '    authorizedApplications(includeRevoked: true) { application { name } revokedAt }',
    '  }',
    '}',
    '',
  ].join('\n');

  // ---- storage ------------------------------------------------------------------------------

  // GraphiQL keeps its tabs, history and favourites in localStorage, and its history entries
  // carry the headers they were run with: the bearer token would outlive the tab and its
  // sign-out. Everything GraphiQL stores goes through here, with every `headers` taken out.
  function withoutHeaders(value) {
    var parsed;
    try {
      parsed = JSON.parse(value);
    } catch (e) {
      return value;
    }
    (function strip(node) {
      if (Array.isArray(node)) {
        node.forEach(strip);
      } else if (node && typeof node === 'object') {
        delete node.headers;
        Object.keys(node).forEach(function (key) { strip(node[key]); });
      }
    })(parsed);
    return JSON.stringify(parsed);
  }

  var STORAGE = {
    getItem: function (key) { return window.localStorage.getItem(key); },
    setItem: function (key, value) { window.localStorage.setItem(key, withoutHeaders(value)); },
    removeItem: function (key) { window.localStorage.removeItem(key); },
    clear: function () { window.localStorage.clear(); },
    key: function (index) { return window.localStorage.key(index); },
    get length() { return window.localStorage.length; },
  };

  // ---- start --------------------------------------------------------------------------------

  function Explorer() {
    var state = useAuth();
    return h(GraphiQL, {
      fetcher: fetcher,
      plugins: PLUGINS,
      visiblePlugin: START_PANEL,
      onTogglePluginVisibility: rememberPanel,
      defaultTabs: [{ query: EXAMPLES }],
      // A tab without headers of its own (a new one, or any after a reload) gets the token.
      defaultHeaders: headersFor(state.token),
      // Tokens stay out of localStorage (see STORAGE), and GraphiQL's setting to put them
      // there is hidden.
      storage: STORAGE,
      shouldPersistHeaders: false,
      showPersistHeadersSettings: false,
      defaultEditorToolsVisibility: 'headers',
      toolbar: { additionalComponent: AuthButton },
    });
  }

  var START_PANEL = startPanel();

  // A stored token may have ended while the page was closed: check it once, quietly.
  if (auth.state.token) {
    var checked = auth.state.token;
    request('query WhoAmI { me { login kind } }', {}, checked).then(
      function (data) {
        if (auth.state.token === checked && data.me) {
          auth.set(Object.assign({}, auth.state, { login: data.me.login, managerKind: data.me.kind }));
        }
      },
      function (error) {
        var refused = (error.errors || []).some(function (e) {
          return e.code === 'UNAUTHENTICATED';
        });
        if (refused && auth.state.token === checked) {
          auth.set({ token: null, notice: 'Your session has ended. Sign in again.' });
        }
      },
    );
  }

  ReactDOM.createRoot(mount).render(h(Explorer));
})();
