DROP TABLE plugin_states;
