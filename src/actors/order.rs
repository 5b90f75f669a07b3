//! One actor per active order: its mailbox serializes that order's status changes.
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::messages::{ChangeStatus, Publish};
use super::Hub;
use crate::domain::clock::Clock;
use crate::domain::ids::OrderId;
use crate::domain::order::Order;
use crate::error::AppError;
use crate::store::SharedStorage;

const IDLE_AFTER: Duration = Duration::from_secs(60);

/// Finds (or starts) the actor of an order.
#[derive(Message)]
#[rtype(result = "Addr<OrderActor>")]
pub struct ActorFor(pub OrderId);

/// An order actor that went idle asks to be forgotten.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Idle {
    pub order: OrderId,
    pub actor: Addr<OrderActor>,
}

pub struct OrderRegistry {
    store: SharedStorage,
    hub: Addr<Hub>,
    /// The time stamped on each status change.
    clock: Clock,
    actors: HashMap<OrderId, Addr<OrderActor>>,
}

impl OrderRegistry {
    pub fn new(store: SharedStorage, hub: Addr<Hub>, clock: Clock) -> Self {
        OrderRegistry {
            store,
            hub,
            clock,
            actors: HashMap::new(),
        }
    }
}

impl Actor for OrderRegistry {
    type Context = Context<Self>;
}

impl Handler<ActorFor> for OrderRegistry {
    type Result = MessageResult<ActorFor>;

    fn handle(&mut self, msg: ActorFor, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(actor) = self.actors.get(&msg.0).filter(|a| a.connected()) {
            return MessageResult(actor.clone());
        }
        let actor = OrderActor {
            order: msg.0,
            store: self.store.clone(),
            hub: self.hub.clone(),
            clock: self.clock.clone(),
            registry: ctx.address(),
            last_used: Instant::now(),
        }
        .start();
        self.actors.insert(msg.0, actor.clone());
        MessageResult(actor)
    }
}

impl Handler<Idle> for OrderRegistry {
    type Result = ();

    fn handle(&mut self, msg: Idle, _: &mut Context<Self>) {
        if self.actors.get(&msg.order) == Some(&msg.actor) {
            self.actors.remove(&msg.order);
        }
    }
}

pub struct OrderActor {
    order: OrderId,
    store: SharedStorage,
    hub: Addr<Hub>,
    clock: Clock,
    registry: Addr<OrderRegistry>,
    last_used: Instant,
}

impl Actor for OrderActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(IDLE_AFTER / 2, |actor, ctx| {
            if actor.last_used.elapsed() >= IDLE_AFTER {
                actor.registry.do_send(Idle {
                    order: actor.order,
                    actor: ctx.address(),
                });
                ctx.stop();
            }
        });
    }
}

impl Handler<ChangeStatus> for OrderActor {
    /// Atomic: the mailbox waits for the transition, so an order's changes stay serialized,
    /// while the sled transaction itself runs on the blocking pool rather than on the thread
    /// this actor shares with the hub and the other order actors.
    type Result = AtomicResponse<Self, Result<Order, AppError>>;

    fn handle(&mut self, msg: ChangeStatus, _: &mut Context<Self>) -> Self::Result {
        self.last_used = Instant::now();
        let (store, hub, order) = (self.store.clone(), self.hub.clone(), self.order);
        // Read in the mailbox's turn, so an order's history is stamped in the order applied.
        let at = self.clock.now();
        let transition = actix_web::rt::task::spawn_blocking(move || {
            let publish = |event: &crate::domain::event::OrderEvent| {
                hub.do_send(Publish(Arc::new(event.clone())))
            };
            store
                .transition_order(order, msg.next, at, &publish)
                .map(|(order, _event)| order)
                .map_err(AppError::from)
        });
        AtomicResponse::new(Box::pin(
            async move {
                transition
                    .await
                    .map_err(|_| AppError::internal("a status change stopped"))?
            }
            .into_actor(self),
        ))
    }
}
